# azd preprovision hook (Windows): the same as entra-app.sh, which says what it creates and why.
$ErrorActionPreference = 'Stop'

if ($env:MCP_OAUTH_ENTRA -eq 'false') {
    Write-Host 'MCP_OAUTH_ENTRA=false: no Entra app registration; the gateway takes static tokens only.'
    exit 0
}
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Write-Error "The Azure CLI (az) creates the gateway's Entra app registration: install it and run 'az login', or run 'azd env set MCP_OAUTH_ENTRA false' to deploy without OAuth."
}

$vscode = 'aebc6443-996d-45c2-90f0-388ff96faa56' # Visual Studio Code's Microsoft sign-in client
$name = "mcp-gateway-$env:AZURE_ENV_NAME"
$tenant = az account show --query tenantId -o tsv
$appId = $env:MCP_OAUTH_CLIENT_ID
if (-not $appId) { $appId = az ad app list --display-name $name --query '[0].appId' -o tsv }

function Update-Application([string] $objectId, [hashtable] $body) {
    $file = New-TemporaryFile
    try {
        $body | ConvertTo-Json -Depth 10 | Set-Content -Path $file -Encoding utf8
        az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications/$objectId" --headers 'Content-Type=application/json' --body "@$file" | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "Updating the app registration failed." }
    }
    finally { Remove-Item $file }
}

if (-not $appId) {
    Write-Host "Creating the Entra app registration $name in tenant $tenant"
    $appId = az ad app create --display-name $name --sign-in-audience AzureADMyOrg --query appId -o tsv
    $objectId = az ad app show --id $appId --query id -o tsv
    $scopeId = [guid]::NewGuid().ToString()
    $api = @{
        requestedAccessTokenVersion = 2
        oauth2PermissionScopes = @(@{
            id = $scopeId; value = 'mcp.access'; type = 'User'; isEnabled = $true
            adminConsentDisplayName = 'Use the MCP gateway'; adminConsentDescription = 'Call the MCP servers behind the gateway as the signed-in user.'
            userConsentDisplayName = 'Use the MCP gateway'; userConsentDescription = 'Call the MCP servers behind the gateway as you.'
        })
    }
    Update-Application $objectId @{
        identifierUris = @("api://$appId")
        api = $api
        appRoles = @(
            @{ id = [guid]::NewGuid().ToString(); value = 'McpGateway.Access'; displayName = 'MCP gateway access'; description = 'Call the MCP servers behind the gateway (apps).'; allowedMemberTypes = @('Application'); isEnabled = $true },
            @{ id = [guid]::NewGuid().ToString(); value = 'McpGateway.Admin'; displayName = 'MCP gateway admin'; description = 'Manage the gateway through its admin API.'; allowedMemberTypes = @('User', 'Application'); isEnabled = $true })
    }
    # A pre-authorization may name only a scope that already exists: a second request.
    $api.preAuthorizedApplications = @(@{ appId = $vscode; delegatedPermissionIds = @($scopeId) })
    Update-Application $objectId @{ api = $api }
    az ad sp create --id $appId | Out-Null
}
else {
    Write-Host "Reusing the Entra app registration $appId"
    $app = az ad app show --id $appId | ConvertFrom-Json
    $missing = @()
    if (-not ($app.api.oauth2PermissionScopes | Where-Object value -eq 'mcp.access')) { $missing += 'scope mcp.access' }
    foreach ($role in 'McpGateway.Access', 'McpGateway.Admin') {
        if (-not ($app.appRoles | Where-Object value -eq $role)) { $missing += "app role $role" }
    }
    if ($app.identifierUris -notcontains "api://$appId") { $missing += "app ID URI api://$appId" }
    if ($missing) {
        Write-Error "The app registration $appId lacks: $($missing -join ', '). Add them (see README.md, OAuth with Entra ID), or unset MCP_OAUTH_CLIENT_ID and rename it to let this hook create a new one."
    }
    az ad sp show --id $appId 2>$null | Out-Null
    if ($LASTEXITCODE -ne 0) { az ad sp create --id $appId | Out-Null }
}

azd env set MCP_OAUTH_CLIENT_ID $appId
azd env set MCP_OAUTH_TENANT_ID $tenant
Write-Host "OAuth: issuer https://login.microsoftonline.com/$tenant/v2.0, scope api://$appId/mcp.access, admin role McpGateway.Admin"
