using McpServerless.Model;

namespace McpServerless.Proxy.Upstreams;

/// <summary>
/// Loggers that keep one upstream's secrets out of the log: the connection and the SDK client and transport it
/// creates log through these, and the SDK quotes what the upstream said (stderr lines, the body of a refused request).
/// An entry that would reveal a secret is written as its redacted text, exception included; others pass unchanged.
/// </summary>
internal sealed class RedactingLoggerFactory(ILoggerFactory inner, SecretRedactor secrets) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName), secrets);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The inner factory belongs to the host.
    }

    private sealed class RedactingLogger(ILogger inner, SecretRedactor secrets) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel)) return;
            var message = formatter(state, exception);
            var exceptionText = exception?.ToString();
            if (!secrets.Reveals(message) && (exceptionText is null || !secrets.Reveals(exceptionText)))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }
            // The structured values and the exception may quote the secret as well: only the redacted text goes on.
            var redacted = secrets.Redact(exceptionText is null ? message : $"{message}{Environment.NewLine}{exceptionText}");
            inner.Log(logLevel, eventId, redacted, null, static (text, _) => text);
        }
    }
}
