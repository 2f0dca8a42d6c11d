// The tokens, and nothing else. The vault authorizes with Azure RBAC; each app's identity may read only the secrets
// it serves (Key Vault Secrets User on the secret), and the deploying principal may read them all, so the operator
// can look the generated tokens up after `azd up`.
param location string
param tags object
@description('uniqueString() of subscription, environment and region: makes names globally unique.')
@minLength(13)
@maxLength(13)
param token string

@secure()
param adminToken string

@secure()
param adminTokenNext string

@secure()
param agentToken string

param adminPrincipalId string
param proxyPrincipalId string
param tokenReaderPrincipalId string

var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var rotating = !empty(adminTokenNext)

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: 'kv-${token}'
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    // Soft delete cannot be turned off: `azd down --purge` removes the vault for good, so the name is free again.
    softDeleteRetentionInDays: 7
  }
}

resource adminTokenSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'admin-token'
  properties: {
    value: adminToken
  }
}

resource adminTokenNextSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (rotating) {
  parent: vault
  name: 'admin-token-next'
  properties: {
    value: adminTokenNext
  }
}

resource agentTokenSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'agent-token'
  properties: {
    value: agentToken
  }
}

// Both apps accept admin tokens; only the proxy checks the agent token.
resource adminTokenReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in [adminPrincipalId, proxyPrincipalId]: {
  name: guid(adminTokenSecret.id, principalId, secretsUser)
  scope: adminTokenSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

resource adminTokenNextReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in (rotating ? [adminPrincipalId, proxyPrincipalId] : []): {
  name: guid(vault.id, 'admin-token-next', principalId, secretsUser)
  scope: adminTokenNextSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}]

resource agentTokenReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(agentTokenSecret.id, proxyPrincipalId, secretsUser)
  scope: agentTokenSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
    principalId: proxyPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// A user or a CI principal: no principalType, so either works.
resource operatorReadsTokens 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(tokenReaderPrincipalId)) {
  name: guid(vault.id, tokenReaderPrincipalId, secretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
    principalId: tokenReaderPrincipalId
  }
}

output name string = vault.name

// The Functions app reads versioned URIs: a new token value is a new URI, so its settings change and it reads the
// value at once (a versionless reference is refreshed only daily there). The container app reads the latest version
// and restarts its replicas by itself within 30 minutes of a new one.
@description('Versioned URIs of the admin token, then of the next one while rotating.')
output adminTokenVersionUris array = concat(
  [adminTokenSecret.properties.secretUriWithVersion],
  rotating ? [adminTokenNextSecret!.properties.secretUriWithVersion] : [])

@description('Versionless URIs of the admin token, then of the next one while rotating.')
output adminTokenUris array = concat([adminTokenSecret.properties.secretUri], rotating ? [adminTokenNextSecret!.properties.secretUri] : [])

output agentTokenUri string = agentTokenSecret.properties.secretUri
