// The admin API: Azure Functions on Flex Consumption, .NET isolated worker. The host's own storage, the package
// container, Application Insights, the registry table and the change topic are all reached with the app's
// user-assigned identity; the only secret, the admin token, is a Key Vault reference resolved with that identity.
param location string
param tags object
@description('uniqueString() of subscription, environment and region: makes names globally unique.')
@minLength(13)
@maxLength(13)
param token string
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string

@description('McpProxy__* settings shared with the proxy (store and change feed).')
param gatewaySettings object

@description('Key Vault secret URIs of the accepted admin tokens (the second while rotating).')
param adminTokenSecretUris array

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-admin-${token}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

var settings = union(gatewaySettings, {
  AZURE_CLIENT_ID: identityClientId
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  McpProxy__Storage__Table__ManagedIdentityClientId: identityClientId
  McpProxy__ChangeFeed__ServiceBus__ManagedIdentityClientId: identityClientId
}, toObject(range(0, length(adminTokenSecretUris)), i => 'McpProxy__AdminTokens__${i}', i => '@Microsoft.KeyVault(SecretUri=${adminTokenSecretUris[i]})'))

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-admin-${token}'
  location: location
  tags: union(tags, { 'azd-service-name': 'admin' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: 40
        instanceMemoryMB: 2048
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: settings
}

// The typed admin client and every admin path take this as their base (the Functions host reserves /admin/*).
output adminApiUrl string = 'https://${app.properties.defaultHostName}/gateway/'
