using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpServerless.ConformanceServer;

/// <summary>Registers everything the suite's server scenarios call, and the server-wide handlers.</summary>
public static class ConformanceFeatures
{
    /// <summary>How long lists may be cached: they change only through the trigger tools, which also send list_changed.</summary>
    private static readonly TimeSpan ListTtl = TimeSpan.FromMinutes(5);

    public static void Configure(McpServerOptions options)
    {
        options.ServerInfo = new Implementation { Name = "mcp-serverless-conformance", Version = "1.0.0" };
        options.ServerInstructions = "The tools, resources and prompts of the MCP conformance suite's server scenarios.";
    }

    public static IMcpServerBuilder WithConformanceFeatures(this IMcpServerBuilder builder, InputRequiredMode inputRequired)
    {
        // requestState is protected with keys that live as long as the process: a state outliving it is refused.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        builder.Services.AddSingleton(services => new ClientInputs(inputRequired, services.GetRequiredService<IDataProtectionProvider>()));
        return builder
            .WithTools<ConformanceTools>()
            .WithTools([ConformanceTools.JsonSchema202012Tool()])
            .WithTools<InputRequiredTools>()
            .WithPrompts<ConformancePrompts>()
            .WithPrompts<InputRequiredPrompts>()
            .WithResources<ConformanceResources>()
            .WithCompleteHandler((request, _) => ValueTask.FromResult(Complete(request.Params)))
            .WithSetLoggingLevelHandler(async (request, cancellationToken) =>
            {
                await request.Server.SendNotificationAsync(NotificationMethods.LoggingMessageNotification, new LoggingMessageNotificationParams
                {
                    Level = LoggingLevel.Info,
                    Logger = "conformance",
                    Data = JsonSerializer.SerializeToElement($"Log level set to {request.Params?.Level}", ConformanceJson.Default.String),
                }, cancellationToken: cancellationToken);
                return new EmptyResult();
            })
            // This server's resources never change, so a subscription is accepted and has nothing to deliver.
            .WithSubscribeToResourcesHandler((_, _) => ValueTask.FromResult(new EmptyResult()))
            .WithUnsubscribeFromResourcesHandler((_, _) => ValueTask.FromResult(new EmptyResult()))
            .WithRequestFilters(filters => filters
                .AddListToolsFilter(next => async (request, cancellationToken) => Cacheable(await next(request, cancellationToken), ListTtl))
                .AddListPromptsFilter(next => async (request, cancellationToken) => Cacheable(await next(request, cancellationToken), ListTtl))
                .AddListResourcesFilter(next => async (request, cancellationToken) => Cacheable(await next(request, cancellationToken), ListTtl))
                .AddListResourceTemplatesFilter(next => async (request, cancellationToken) => Cacheable(await next(request, cancellationToken), ListTtl))
                .AddReadResourceFilter(next => async (request, cancellationToken) =>
                {
                    try
                    {
                        return Cacheable(await next(request, cancellationToken), TimeSpan.FromMinutes(1));
                    }
                    catch (McpProtocolException ex)
                    {
                        ex.Data["uri"] = request.Params?.Uri; // SEP-2164: the error names the resource that was not found
                        throw;
                    }
                }));
    }

    // Hints set here go out in every revision (the SDK fills in defaults only for 2026-07-28 requests); nothing here
    // differs per caller, so results are public.
    private static T Cacheable<T>(T result, TimeSpan ttl) where T : ICacheableResult
    {
        result.TimeToLive = ttl;
        result.CacheScope = CacheScope.Public;
        return result;
    }

    /// <summary>Completes prompt arguments and template variables from a small fixed vocabulary.</summary>
    private static CompleteResult Complete(CompleteRequestParams? request)
    {
        string[] words = ["paris", "park", "party", "test", "testing"];
        var prefix = request?.Argument.Value ?? "";
        var values = words.Where(w => w.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).ToList();
        return new CompleteResult { Completion = new Completion { Values = values, Total = values.Count, HasMore = false } };
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class ConformanceJson : System.Text.Json.Serialization.JsonSerializerContext;
