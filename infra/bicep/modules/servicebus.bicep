// Registry change notices: the admin app publishes, each proxy replica receives on its own subscription.
// Local (SAS key) auth is disabled.
param location string
param tags object
@description('uniqueString() of subscription, environment and region: makes names globally unique.')
@minLength(13)
@maxLength(13)
param token string
param topicName string
param adminPrincipalId string
param proxyPrincipalId string

var dataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var dataOwner = '090c5cfd-751d-490a-894a-3ce6f1109419'

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: 'sb-${token}'
  location: location
  tags: tags
  sku: {
    name: 'Standard' // topics need Standard
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: namespace
  name: topicName
  properties: {
    defaultMessageTimeToLive: 'PT10M' // a notice older than this is covered by the proxies' reconcile loop
  }
}

resource adminSends 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, adminPrincipalId, dataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSender)
    principalId: adminPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Each replica creates (and, through auto-delete-on-idle, retires) its own subscription. Creating one needs the
// Manage right, which among built-in roles only Data Owner carries: Data Receiver alone cannot. Scoped to this
// topic, it reaches no other entity of the namespace; it also covers receiving and the proxy's own notices.
resource proxyReceivesAndSubscribes 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, proxyPrincipalId, dataOwner)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataOwner)
    principalId: proxyPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// serviceBusEndpoint is https://{name}.servicebus.windows.net:443/ (or a sovereign cloud's suffix): keep the host.
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
