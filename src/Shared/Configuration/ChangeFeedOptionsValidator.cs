using Microsoft.Extensions.Options;

namespace McpServerless.Configuration;

/// <summary>Stops the start when the chosen change feed lacks the settings it needs, naming them.</summary>
public sealed class ChangeFeedOptionsValidator : IValidateOptions<ChangeFeedOptions>
{
    public ValidateOptionsResult Validate(string? name, ChangeFeedOptions options)
    {
        var failures = new List<string>();
        var prefix = ChangeFeedOptions.SectionName;
        switch (options.Provider)
        {
            case ChangeFeedProvider.Redis:
                RedisSettings.Check(failures, $"{prefix}:Redis", options.Redis);
                if (string.IsNullOrWhiteSpace(options.Redis.Channel))
                    failures.Add($"{prefix}:Redis:Channel must not be empty.");
                break;
            case ChangeFeedProvider.ServiceBus:
                var serviceBus = options.ServiceBus;
                if (string.IsNullOrWhiteSpace(serviceBus.ConnectionString) && string.IsNullOrWhiteSpace(serviceBus.FullyQualifiedNamespace))
                    failures.Add($"{prefix}:ServiceBus:ConnectionString or {prefix}:ServiceBus:FullyQualifiedNamespace is required when {prefix}:Provider is ServiceBus.");
                if (string.IsNullOrWhiteSpace(serviceBus.TopicName))
                    failures.Add($"{prefix}:ServiceBus:TopicName must not be empty.");
                // Service Bus refuses AutoDeleteOnIdle below five minutes.
                if (serviceBus.SubscriptionIdleTimeout < TimeSpan.FromMinutes(5))
                    failures.Add($"{prefix}:ServiceBus:SubscriptionIdleTimeout must be at least 00:05:00.");
                break;
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
