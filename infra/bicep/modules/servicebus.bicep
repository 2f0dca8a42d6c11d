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
var dataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'

resource namespace 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
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

resource topic 'Microsoft.ServiceBus/namespaces/topics@2026-01-01' = {
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

// The proxy receives through, and publishes its own admin routes' changes to, this topic only.
resource proxyData 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [dataReceiver, dataSender]: {
  name: guid(topic.id, proxyPrincipalId, role)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: proxyPrincipalId
    principalType: 'ServicePrincipal'
  }
}]

// Each replica also creates its own subscription (which deletes itself when idle), and no built-in role below Data
// Owner carries that right; Data Owner would also let the proxy delete the topic, send anywhere and change its rules.
// So a custom role grants exactly reading the topic and reading and writing its subscriptions, on this topic. Service
// Bus checks entity management on its own endpoint (what the SDK's administration client calls) against these same
// RBAC actions; an identity's data roles play no part in it.
resource subscriptionWriter 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'mcp-serverless-topic-subscription-writer')
  properties: {
    roleName: 'MCP gateway subscription writer (${resourceGroup().id})'
    description: 'Create and read the subscriptions of the registry-change topic; nothing else.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: [
          'Microsoft.ServiceBus/namespaces/topics/read'
          'Microsoft.ServiceBus/namespaces/topics/subscriptions/read'
          'Microsoft.ServiceBus/namespaces/topics/subscriptions/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

resource proxySubscribes 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, proxyPrincipalId, subscriptionWriter.id)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionWriter.id
    principalId: proxyPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// serviceBusEndpoint is https://{name}.servicebus.windows.net:443/ (or a sovereign cloud's suffix): keep the host.
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
