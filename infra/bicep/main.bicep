// The split deployment: the admin API on Azure Functions (Flex Consumption), the proxy on Azure Container Apps,
// the registry in Table Storage and change notices on a Service Bus topic. Local modules only, so `bicep build`
// works offline. azd convention: subscription scope, one resource group per environment.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds resource names.')
param environmentName string

@minLength(1)
@description('Region of every resource.')
param location string

@secure()
@minLength(32)
@description('Admin bearer token accepted by the admin API (Functions) and the proxy\'s own admin routes.')
param adminToken string

@secure()
@description('A second admin token, accepted alongside the first while clients move over (rotation). Empty: none.')
param adminTokenNext string = ''

@secure()
@minLength(32)
@description('Bearer token agents present on every proxy endpoint (McpProxy:GlobalAuthTokens).')
param agentToken string

@description('The proxy image azd pushed; empty on the first provision, before any image exists.')
param proxyImageName string = ''

@description('A public image serving HTTP on port 8080, run only until the first `azd deploy` replaces it.')
param proxyPlaceholderImage string = ''

@minValue(1)
@maxValue(30)
@description('Most proxy replicas. Each holds its own upstream connections; sessions stick to a replica.')
param proxyMaxReplicas int = 5

@description('Address ranges of the Container Apps ingress proxies, whose X-Forwarded-For the proxy believes.')
param ingressProxyRanges array = [
  '10.0.0.0/8'
  '100.64.0.0/10'
  '172.16.0.0/12'
]

var tags = { 'azd-env-name': environmentName }
var token = toLower(uniqueString(subscription().id, environmentName, location))
var topicName = 'registry-changes'
var tableName = 'McpRegistry'

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identities 'modules/identities.bicep' = {
  scope: group
  name: 'identities'
  params: {
    location: location
    tags: tags
    token: token
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: group
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    token: token
    publisherPrincipalIds: [
      identities.outputs.adminPrincipalId
      identities.outputs.proxyPrincipalId
    ]
  }
}

module storage 'modules/storage.bicep' = {
  scope: group
  name: 'storage'
  params: {
    location: location
    tags: tags
    token: token
    tableName: tableName
    adminPrincipalId: identities.outputs.adminPrincipalId
    proxyPrincipalId: identities.outputs.proxyPrincipalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  scope: group
  name: 'servicebus'
  params: {
    location: location
    tags: tags
    token: token
    topicName: topicName
    adminPrincipalId: identities.outputs.adminPrincipalId
    proxyPrincipalId: identities.outputs.proxyPrincipalId
  }
}

module registry 'modules/registry.bicep' = {
  scope: group
  name: 'registry'
  params: {
    location: location
    tags: tags
    token: token
    proxyPrincipalId: identities.outputs.proxyPrincipalId
  }
}

// Settings both apps read: where the registry and the change feed are, reached with their managed identity.
var sharedSettings = {
  McpProxy__Storage__Provider: 'Table'
  McpProxy__Storage__Table__Endpoint: storage.outputs.tableEndpoint
  McpProxy__Storage__Table__TableName: tableName
  McpProxy__ChangeFeed__Provider: 'ServiceBus'
  McpProxy__ChangeFeed__ServiceBus__FullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  McpProxy__ChangeFeed__ServiceBus__TopicName: topicName
}

module admin 'modules/functions.bicep' = {
  scope: group
  name: 'admin'
  params: {
    location: location
    tags: tags
    token: token
    identityId: identities.outputs.adminId
    identityClientId: identities.outputs.adminClientId
    storageAccountName: storage.outputs.accountName
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    gatewaySettings: sharedSettings
    adminToken: adminToken
    adminTokenNext: adminTokenNext
  }
}

module proxy 'modules/containerapp.bicep' = {
  scope: group
  name: 'proxy'
  params: {
    location: location
    tags: tags
    token: token
    identityId: identities.outputs.proxyId
    identityClientId: identities.outputs.proxyClientId
    registryLoginServer: registry.outputs.loginServer
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    image: empty(proxyImageName) ? proxyPlaceholderImage : proxyImageName
    maxReplicas: proxyMaxReplicas
    trustedProxies: ingressProxyRanges
    gatewaySettings: sharedSettings
    adminToken: adminToken
    adminTokenNext: adminTokenNext
    agentToken: agentToken
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer

@description('Base address of the admin API (Functions): append admin/mcps, admin/tools, healthz, ...')
output ADMIN_API_URL string = admin.outputs.adminApiUrl

@description('Where agents connect: /{name}/stream, /{name}/sse, /mcp, /sse on the proxy.')
output AGENT_URL string = proxy.outputs.agentUrl
