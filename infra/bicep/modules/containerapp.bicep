// The proxy: long-lived SSE / streamable-HTTP sessions and stdio children, on Azure Container Apps.
// Sessions are per replica (Mcp-Session-Id, the SSE message endpoint), so ingress affinity is sticky and the
// app runs a single active revision (sticky sessions require it).
param location string
param tags object
@description('uniqueString() of subscription, environment and region: makes names globally unique.')
@minLength(13)
@maxLength(13)
param token string
param identityId string
param identityClientId string
param registryLoginServer string
param logAnalyticsName string
param applicationInsightsName string
param name string
param image string

@description('Whether image is the placeholder, which answers only GET /healthz: then the probes ask only that of it.')
param placeholder bool

param maxReplicas int
param trustedProxies array

@description('McpProxy__* settings shared with the admin app (store and change feed).')
param gatewaySettings object

@description('Key Vault secret URIs of the accepted admin tokens (the second while rotating).')
param adminTokenSecretUris array

@description('Key Vault secret URI of the agent token.')
param agentTokenSecretUri string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Logs go to Azure Monitor and on to the workspace through a diagnostic setting: no workspace key is handed over.
resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${token}'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

// Key Vault references, read with the app's identity: the tokens exist nowhere but in the vault.
var secrets = concat(
  [{ name: 'agent-token', keyVaultUrl: agentTokenSecretUri, identity: identityId }],
  map(range(0, length(adminTokenSecretUris)), i => { name: 'admin-token-${i}', keyVaultUrl: adminTokenSecretUris[i], identity: identityId }))

var plainSettings = union(gatewaySettings, {
  // Listen on every interface inside the container; the local default stays 127.0.0.1:8081.
  McpProxy__Host: '0.0.0.0'
  McpProxy__Port: '8080'
  McpProxy__BaseUrl: 'https://${name}.${environment.properties.defaultDomain}'
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  McpProxy__Storage__Table__ManagedIdentityClientId: identityClientId
  McpProxy__ChangeFeed__ServiceBus__ManagedIdentityClientId: identityClientId
})

var env = concat(
  map(items(plainSettings), setting => { name: setting.key, value: setting.value }),
  map(range(0, length(trustedProxies)), i => { name: 'McpProxy__TrustedProxies__${i}', value: trustedProxies[i] }),
  [{ name: 'McpProxy__GlobalAuthTokens__0', secretRef: 'agent-token' }],
  map(range(0, length(adminTokenSecretUris)), i => { name: 'McpProxy__AdminTokens__${i}', secretRef: 'admin-token-${i}' }))

// Liveness asks only whether the process serves HTTP: a storage outage or a role assignment still propagating must
// not restart replicas (that would drop every session and stdio child). Startup asks the same: a failed startup probe
// restarts the container too, and Container Apps caps its window (10 failures), shorter than a role can take to
// propagate. Readiness asks for storage and the change feed; until they answer, the replica takes no traffic.
var appProbes = [
  {
    type: 'Startup'
    httpGet: { path: '/healthz/live', port: 8080 }
    periodSeconds: 3
    failureThreshold: 10
  }
  {
    type: 'Liveness'
    httpGet: { path: '/healthz/live', port: 8080 }
    periodSeconds: 30
  }
  {
    type: 'Readiness'
    httpGet: { path: '/healthz/ready', port: 8080 }
    periodSeconds: 10
  }
]

// Until the first `azd deploy` the placeholder runs, and `azd deploy` then changes only the image: these probes must
// suit both. A TCP connect is liveness for any server on 8080; /healthz is 200 on the placeholder and, on the proxy,
// runs the same checks as /healthz/ready. The next provision (the app exists then) sets appProbes.
var placeholderProbes = [
  {
    type: 'Startup'
    tcpSocket: { port: 8080 }
    periodSeconds: 3
    failureThreshold: 10
  }
  {
    type: 'Liveness'
    tcpSocket: { port: 8080 }
    periodSeconds: 30
  }
  {
    type: 'Readiness'
    httpGet: { path: '/healthz', port: 8080 }
    periodSeconds: 10
  }
]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'proxy' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    managedEnvironmentId: environment.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 8080
        transport: 'auto'
        allowInsecure: false
        stickySessions: {
          affinity: 'sticky'
        }
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
      secrets: secrets
    }
    template: {
      containers: [
        {
          name: 'proxy'
          image: image
          env: env
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          probes: placeholder ? placeholderProbes : appProbes
        }
      ]
      scale: {
        // At least one replica: stdio children and upstream connections must stay up between requests.
        minReplicas: 1
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                // Open SSE streams count as concurrent requests, so this bounds sessions per replica.
                concurrentRequests: '50'
              }
            }
          }
        ]
      }
    }
  }
}

output agentUrl string = 'https://${app.properties.configuration.ingress.fqdn}'
