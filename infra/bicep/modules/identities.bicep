// One identity per app, so each gets only the roles its own work needs.
param location string
param tags object
@description('uniqueString() of subscription, environment and region: makes names globally unique.')
@minLength(13)
@maxLength(13)
param token string

resource admin 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-admin-${token}'
  location: location
  tags: tags
}

resource proxy 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-proxy-${token}'
  location: location
  tags: tags
}

output adminId string = admin.id
output adminClientId string = admin.properties.clientId
output adminPrincipalId string = admin.properties.principalId
output proxyId string = proxy.id
output proxyClientId string = proxy.properties.clientId
output proxyPrincipalId string = proxy.properties.principalId
