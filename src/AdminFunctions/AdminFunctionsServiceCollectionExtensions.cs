using McpServerless.Configuration;
using McpServerless.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace McpServerless.AdminFunctions;

public static class AdminFunctionsServiceCollectionExtensions
{
    /// <summary>
    /// What the Functions worker needs besides the Functions runtime: the shared gateway services (store and
    /// change feed as configured; status and tools come from what proxy replicas write to the store, so no MCP
    /// connection is ever opened here), problem details as the local host writes them, request metrics, and
    /// the rule that admin tokens are mandatory.
    /// </summary>
    public static IServiceCollection AddAdminFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMcpGatewayCore(configuration);
        services.AddProblemDetails();
        services.AddSingleton<MeteredAdminRequests>();
        services.AddSingleton<IValidateOptions<McpProxyOptions>, AdminTokensRequired>();
        return services;
    }
}

/// <summary>
/// In a Functions app every request reaches the worker from the Functions host on loopback, so the
/// "no tokens: loopback clients only" fallback would open the admin API to everyone. Refuse to start instead, unless
/// admin tokens or OAuth admins (an authority and an admin scope or role) are configured.
/// </summary>
internal sealed class AdminTokensRequired : IValidateOptions<McpProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, McpProxyOptions options) =>
        options.AdminTokens.Any(t => !string.IsNullOrWhiteSpace(t)) || options.OAuth.AdminEnabled
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{McpProxyOptions.SectionName}:AdminTokens must hold at least one token in the Functions app, or {McpProxyOptions.SectionName}:OAuth must name an Authority and AdminScopes or AdminRoles: its requests all arrive from the Functions host on loopback.");
}
