// The split deployment: the admin API on Azure Functions (Flex Consumption), the proxy on Azure Container Apps,
// the registry in Table Storage and change notices on a Service Bus topic. Local modules only, so `bicep build`
// works offline. azd convention: subscription scope, one resource group per environment.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds resource names.')
param environmentName string

// The regions that run Functions on Flex Consumption (the admin app's plan), as the Functions team's own azd
// quickstart lists them; Container Apps, Service Bus, Key Vault and Storage run in all of them. azd offers only these
// when it asks for a region, and a deployment anywhere else fails before anything is created.
@minLength(1)
@description('Region of every resource: one where Azure Functions offers the Flex Consumption plan.')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({ azd: { type: 'location' } })
param location string

// The tokens: given through MCP_ADMIN_TOKEN / MCP_AGENT_TOKEN, or else generated once by azd (`generate`) and kept in
// the environment's configuration, so every later provision passes the same value. Either way they are stored in
// Key Vault only; the apps read them through Key Vault references.
@secure()
@minLength(32)
@metadata({ azd: { type: 'generate', config: { length: 48, noSpecial: true } } })
@description('Admin bearer token accepted by the admin API (Functions) and the proxy\'s own admin routes.')
param adminToken string

@secure()
@description('A second admin token, accepted alongside the first while clients move over (rotation). Empty: none.')
param adminTokenNext string = ''

@secure()
@minLength(32)
@metadata({ azd: { type: 'generate', config: { length: 48, noSpecial: true } } })
@description('Bearer token agents present on every proxy endpoint (McpProxy:GlobalAuthTokens).')
param agentToken string

@description('Who may read the tokens from Key Vault after the deployment: the deploying user or principal.')
param tokenReaderPrincipalId string = deployer().objectId

@description('Client id of the gateway\'s Entra app registration (the preprovision hook creates it). Empty: no OAuth, static tokens only.')
param oauthClientId string = ''

@description('Tenant of that app registration. Empty: the deployment\'s tenant.')
param oauthTenantId string = ''

@description('Whether the proxy app exists already (azd sets SERVICE_PROXY_RESOURCE_EXISTS): then its current image is kept.')
param proxyExists bool = false

// The .NET sample app (dotnet/dotnet-docker samples/aspnetapp): public, listens on 8080 like the proxy and answers
// GET /healthz with 200, so the app provisions healthy before `azd deploy` has pushed the proxy image.
@description('A public image serving HTTP on port 8080 with GET /healthz, run only until the first `azd deploy`.')
param proxyPlaceholderImage string = 'mcr.microsoft.com/dotnet/samples:aspnetapp'

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
var proxyAppName = 'ca-proxy-${token}'
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

module keyVault 'modules/keyvault.bicep' = {
  scope: group
  name: 'keyvault'
  params: {
    location: location
    tags: tags
    token: token
    adminToken: adminToken
    adminTokenNext: adminTokenNext
    agentToken: agentToken
    adminPrincipalId: identities.outputs.adminPrincipalId
    proxyPrincipalId: identities.outputs.proxyPrincipalId
    tokenReaderPrincipalId: tokenReaderPrincipalId
  }
}

// azd's scaffold pattern: a provision after the first deploy keeps the image azd deployed, read from the app itself
// (an image name remembered in the azd environment would outlive the registry after `azd down`).
module proxyImage 'modules/fetch-container-image.bicep' = {
  scope: group
  name: 'proxy-image'
  params: {
    exists: proxyExists
    name: proxyAppName
  }
}

var proxyImageName = proxyImage.outputs.?containers[?0].?image ?? proxyPlaceholderImage

// Settings both apps read: where the registry and the change feed are, reached with their managed identity.
var sharedSettings = {
  McpProxy__Storage__Provider: 'Table'
  McpProxy__Storage__Table__Endpoint: storage.outputs.tableEndpoint
  McpProxy__Storage__Table__TableName: tableName
  McpProxy__ChangeFeed__Provider: 'ServiceBus'
  McpProxy__ChangeFeed__ServiceBus__FullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  McpProxy__ChangeFeed__ServiceBus__TopicName: topicName
}

// OAuth with Entra ID v2 access tokens, whose audience is the app's client id (or its app ID URI). Users come with the
// delegated scope (clients ask for it by its full name, the token names it mcp.access), apps with the McpGateway.Access
// role, admins with the McpGateway.Admin role; static tokens keep working beside them.
var oauthSettings = empty(oauthClientId) ? {} : {
  McpProxy__OAuth__Authority: '${environment().authentication.loginEndpoint}${empty(oauthTenantId) ? tenant().tenantId : oauthTenantId}/v2.0'
  McpProxy__OAuth__Audiences__0: oauthClientId
  McpProxy__OAuth__Audiences__1: 'api://${oauthClientId}'
  McpProxy__OAuth__RequiredScopes__0: 'api://${oauthClientId}/mcp.access'
  McpProxy__OAuth__RequiredRoles__0: 'McpGateway.Access'
  McpProxy__OAuth__AdminRoles__0: 'McpGateway.Admin'
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
    gatewaySettings: union(sharedSettings, oauthSettings)
    adminTokenSecretUris: keyVault.outputs.adminTokenVersionUris
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
    name: proxyAppName
    image: proxyImageName
    placeholder: proxyImageName == proxyPlaceholderImage
    maxReplicas: proxyMaxReplicas
    trustedProxies: ingressProxyRanges
    gatewaySettings: union(sharedSettings, oauthSettings)
    adminTokenSecretUris: keyVault.outputs.adminTokenUris
    agentTokenSecretUri: keyVault.outputs.agentTokenUri
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer

@description('The vault holding the tokens: secrets admin-token, agent-token (and admin-token-next while rotating).')
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name

@description('Base address of the admin API (Functions): append admin/mcps, admin/tools, healthz, ...')
output ADMIN_API_URL string = admin.outputs.adminApiUrl

@description('Where agents connect: /{name}/stream, /{name}/sse, /mcp, /sse on the proxy.')
output AGENT_URL string = proxy.outputs.agentUrl

@description('The scope MCP clients ask Entra ID for (empty without OAuth).')
output MCP_OAUTH_SCOPE string = empty(oauthClientId) ? '' : 'api://${oauthClientId}/mcp.access'
