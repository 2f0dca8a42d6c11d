using Azure.Core;
using Azure.Identity;

namespace McpServerless.Storage;

/// <summary>
/// The credential of everything reached in Azure without a key (Table Storage, Service Bus, Azure Monitor). A named
/// user-assigned identity means the gateway runs in Azure, where that identity is the only right answer: a
/// <see cref="ManagedIdentityCredential"/> for it, with no chain to fall through (a chain could pick up a developer
/// login or a workload identity by accident, and its probing slows every cold start). Without one, the process
/// runs on a developer's machine (or with a system-assigned identity): <see cref="DefaultAzureCredential"/>.
/// </summary>
public static class AzureCredentials
{
    /// <param name="managedIdentityClientId">The client id of a user-assigned identity; empty outside Azure.</param>
    public static TokenCredential Create(string? managedIdentityClientId) =>
        string.IsNullOrWhiteSpace(managedIdentityClientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(managedIdentityClientId));
}
