using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using DbCore.ConnectionStrings;
using DbCore.Infrastructure;

namespace DbCore;

/// <summary>
/// The resolved, validated configuration of one accessor: environment, provider, pool, retry and timeouts.
/// <see cref="ToString"/> and <see cref="DisplayConnectionString"/> never show the password.
/// </summary>
public sealed class DatabaseOptions
{
    // CancellationTokenSource.CancelAfter, Task.WaitAsync and Npgsql's command timeout (which uses CancelAfter) take at most
    // uint.MaxValue - 1 milliseconds: 4294967 whole seconds (about 49 days).
    private const int MaxTimerSeconds = 4294967;
    private const string TimerLimit = "timers take at most 4294967 seconds, about 49 days";

    // One day: Npgsql allocates Idle / 10 s pruning samples per pool (int.MaxValue would allocate 860 MB).
    private const int MaxIdleSeconds = 86400;

    // PostgreSQL's MAX_BACKENDS (2^18 - 1): the largest max_connections a server can have.
    private const int MaxPoolSize = 262143;

    private DatabaseOptions(
        DatabaseDefinition definition,
        string environment,
        DatabaseProvider provider,
        ParsedConnectionString connectionString,
        PoolOptions pool,
        RetryOptions retry,
        TimeSpan commandTimeout,
        TimeSpan healthTimeout)
    {
        Definition = definition;
        Environment = environment;
        Provider = provider;
        ParsedConnectionString = connectionString;
        Pool = pool;
        Retry = retry;
        CommandTimeout = commandTimeout;
        HealthTimeout = healthTimeout;
        DisplayConnectionString = ConnectionStringParser.Redact(connectionString.Normalized);
    }

    /// <summary>The base name B of the generated accessor.</summary>
    public string Name => Definition.Name;

    /// <summary>The environment the pool profile was chosen for.</summary>
    public string Environment { get; }

    /// <summary>The provider in use (never <see cref="DatabaseProvider.Auto"/>).</summary>
    public DatabaseProvider Provider { get; }

    /// <summary>The resolved pool configuration.</summary>
    public PoolOptions Pool { get; }

    /// <summary>The resolved retry policy.</summary>
    public RetryOptions Retry { get; }

    /// <summary>The command timeout; zero means none.</summary>
    public TimeSpan CommandTimeout { get; }

    /// <summary>How long <c>CheckHealthAsync</c> waits for <c>SELECT 1</c>.</summary>
    public TimeSpan HealthTimeout { get; }

    /// <summary>The connection string in keyword form with the password replaced by <c>***</c>.</summary>
    public string DisplayConnectionString { get; }

    internal DatabaseDefinition Definition { get; }

    internal ParsedConnectionString ParsedConnectionString { get; }

    /// <summary>What the connection string's own pool keywords decided (or why they were overruled); logged at start.</summary>
    internal IReadOnlyList<string> HonouredKeywords { get; private init; } = [];

    /// <summary>Resolves and validates the options of a settings instance for an environment.</summary>
    /// <param name="definition">The generated definition of the settings class.</param>
    /// <param name="settings">The bound settings.</param>
    /// <param name="environment">The environment name; <see langword="null"/> reads it from the process environment.</param>
    /// <exception cref="DatabaseConfigurationException">A value is invalid; the message names the key and the fix.</exception>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public static DatabaseOptions Create(DatabaseDefinition definition, IDatabaseSettings settings, string? environment = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(settings);
        environment ??= DatabaseEnvironment.FromProcess();
        var errors = new Errors(definition);

        DatabaseProvider provider = ResolveProvider(definition, settings, errors);
        ParsedConnectionString parsed = ResolveConnectionString(definition, settings, provider, errors);
        if (provider == DatabaseProvider.Auto)
        {
            provider = parsed.Kind switch
            {
                ConnectionStringKind.PostgreSql => DatabaseProvider.PostgreSql,
                ConnectionStringKind.Sqlite => DatabaseProvider.Sqlite,
                _ => DatabaseProvider.Auto,
            };
        }

        PoolProfile profile = definition.FindProfile(environment);
        PoolSettings p = settings.Pool ?? new PoolSettings();

        // Pool keywords written in a PostgreSQL connection string are honoured over the profile (never replaced silently);
        // DbCore's own Pool:* keys, when set, are the most explicit and win over both. Each decision is logged at start.
        var honoured = new List<string>();
        ConnectionStringPool fromString = provider == DatabaseProvider.PostgreSql
            ? ConnectionStringPool.Read(parsed, ConnectionStringKey(definition, settings), errors.AddFull)
            : default;
        int size = errors.AtLeast("Pool:Size", p.Size ?? fromString.MinPoolSize ?? profile.Size, 0);
        int overflow = errors.AtLeast(
            "Pool:MaxOverflow",
            p.MaxOverflow ?? (fromString.MaxPoolSize is { } max ? Math.Max(0, max - size) : profile.MaxOverflow),
            0);
        if (p.MaxOverflow is null && fromString.MaxPoolSize is { } maxPool && maxPool < size)
        {
            errors.AddFull(ConnectionStringKey(definition, settings), $"The connection string sets Maximum Pool Size={maxPool.ToString(CultureInfo.InvariantCulture)}, below the pool size {size.ToString(CultureInfo.InvariantCulture)} (Minimum Pool Size or {definition.Key("Pool:Size")}). Raise Maximum Pool Size or lower the size.");
        }

        fromString.Describe(p, profile, environment, honoured);
        if (size >= 0 && overflow >= 0 && (long)size + overflow < 1)
        {
            errors.Add("Pool:MaxOverflow", $"Pool:Size + Pool:MaxOverflow is {size + overflow}; it must be at least 1. Set {definition.Key("Pool:MaxOverflow")} (or Pool:Size) to 1 or more.");
        }
        else if (size >= 0 && overflow >= 0 && (long)size + overflow > MaxPoolSize)
        {
            // Npgsql allocates a slot per possible connection up front; no PostgreSQL server accepts more than this anyway.
            errors.Add("Pool:MaxOverflow", $"Pool:Size + Pool:MaxOverflow is {(long)size + overflow}; it must be at most {MaxPoolSize} (PostgreSQL's largest max_connections). Lower {definition.Key("Pool:Size")} or {definition.Key("Pool:MaxOverflow")}.");
        }

        int acquire = errors.Between("Pool:AcquireTimeoutSeconds", p.AcquireTimeoutSeconds ?? fromString.Timeout ?? profile.AcquireTimeoutSeconds, 1, 1024);
        int recycle = errors.AtLeast("Pool:RecycleSeconds", p.RecycleSeconds ?? fromString.ConnectionLifetime ?? profile.RecycleSeconds, 0);
        int idle = errors.Between("Pool:IdleSeconds", p.IdleSeconds ?? fromString.ConnectionIdleLifetime ?? profile.IdleSeconds, 10, MaxIdleSeconds, " (Npgsql prunes idle connections every 10 seconds and keeps one sample per 10 seconds of idle lifetime, so a huge value allocates gigabytes)");
        bool warmUp = p.WarmUp ?? profile.WarmUp;

        RetrySettings r = settings.Retry ?? new RetrySettings();
        bool production = string.Equals(environment, "Production", StringComparison.OrdinalIgnoreCase);
        int attempts = errors.Between("Retry:MaxAttempts", r.MaxAttempts ?? (production ? 3 : 1), 1, 10);
        int baseDelay = errors.AtLeast("Retry:BaseDelayMilliseconds", r.BaseDelayMilliseconds ?? 50, 1);
        int maxDelay = errors.AtLeast("Retry:MaxDelayMilliseconds", r.MaxDelayMilliseconds ?? 2000, 1);
        if (baseDelay > 0 && maxDelay > 0 && baseDelay > maxDelay)
        {
            errors.Add("Retry:BaseDelayMilliseconds", $"Retry:BaseDelayMilliseconds ({baseDelay}) is larger than Retry:MaxDelayMilliseconds ({maxDelay}). Make {definition.Key("Retry:BaseDelayMilliseconds")} less than or equal to the maximum.");
        }

        int commandTimeout = errors.Between("CommandTimeoutSeconds", settings.CommandTimeoutSeconds ?? fromString.CommandTimeout ?? 30, 0, MaxTimerSeconds, " (0 = no timeout; " + TimerLimit + ")");
        int healthTimeout = errors.Between("HealthTimeoutSeconds", settings.HealthTimeoutSeconds ?? 5, 1, MaxTimerSeconds, " (" + TimerLimit + ")");

        errors.ThrowIfAny();

        var options = new DatabaseOptions(
            definition,
            environment,
            provider,
            parsed,
            new PoolOptions(size, overflow, TimeSpan.FromSeconds(acquire), TimeSpan.FromSeconds(recycle), TimeSpan.FromSeconds(idle), warmUp),
            new RetryOptions(attempts, TimeSpan.FromMilliseconds(baseDelay), TimeSpan.FromMilliseconds(maxDelay)),
            TimeSpan.FromSeconds(commandTimeout),
            TimeSpan.FromSeconds(healthTimeout))
        {
            HonouredKeywords = honoured,
        };

        // The provider's own rules (values of keywords, host lists, combinations), checked by building what the engine
        // builds, so a bad value fails here with the key instead of as a raw exception from the provider.
        string key = ConnectionStringKey(definition, settings);
        if (ProviderConnectionStrings.FindProblem(options, key) is { } problem)
        {
            throw new DatabaseConfigurationException(key, "Invalid database configuration: " + problem);
        }

        return options;
    }

    private static string ConnectionStringKey(DatabaseDefinition definition, IDatabaseSettings settings)
        => settings.ConnectionStringSource ?? definition.SettingsTypeName + "." + definition.ConnectionStringProperty;

    private static DatabaseProvider ResolveProvider(DatabaseDefinition definition, IDatabaseSettings settings, Errors errors)
    {
        DatabaseProvider configured = settings.Provider ?? DatabaseProvider.Auto;
        if (configured is < DatabaseProvider.Auto or > DatabaseProvider.Sqlite)
        {
            errors.Add("Provider", $"'{(int)configured}' is not a provider. Set {definition.Key("Provider")} to Auto, PostgreSql or Sqlite.");
            return definition.Provider;
        }

        if (definition.Provider == DatabaseProvider.Auto)
        {
            return configured;
        }

        if (configured != DatabaseProvider.Auto && configured != definition.Provider)
        {
            errors.Add("Provider", $"{definition.Key("Provider")} is {configured}, but {definition.SettingsTypeName} is pinned to {definition.Provider} by [DatabaseSettings(Provider = DatabaseProvider.{definition.Provider})]. Remove the key or set it to {definition.Provider}.");
        }

        return definition.Provider;
    }

    private static ParsedConnectionString ResolveConnectionString(DatabaseDefinition definition, IDatabaseSettings settings, DatabaseProvider provider, Errors errors)
    {
        string key = ConnectionStringKey(definition, settings);
        ParsedConnectionString parsed = ConnectionStringParser.Parse(settings.ConnectionString);
        if (string.IsNullOrWhiteSpace(settings.ConnectionString) && (settings.ConnectionStringSource is null || settings.ConnectionStringSource == definition.SettingsTypeName + "." + definition.ConnectionStringProperty + " (default)"))
        {
            // No default in the settings class (a pinned provider needs none) and nothing configured: the key is required.
            string environmentVariable = definition.EnvironmentVariable is { } variable ? $", or the environment variable {variable}" : string.Empty;
            errors.AddFull(
                "ConnectionStrings:" + definition.Name,
                $"No connection string is configured for {definition.Name}. Set ConnectionStrings:{definition.Name} or {definition.Key("ConnectionString")}{environmentVariable} (tried in that order after the configure callback), or give {definition.SettingsTypeName}.{definition.ConnectionStringProperty} a default.");
            return parsed;
        }

        if (parsed.Error is not null)
        {
            errors.AddFull(key, $"The connection string from {key} is invalid: {parsed.Error} Fix the value of {key}.");
            return parsed;
        }

        ConnectionStringKind expected = provider switch
        {
            DatabaseProvider.PostgreSql => ConnectionStringKind.PostgreSql,
            DatabaseProvider.Sqlite => ConnectionStringKind.Sqlite,
            _ => ConnectionStringKind.Unknown,
        };

        if (expected != ConnectionStringKind.Unknown && parsed.Kind != ConnectionStringKind.Unknown && parsed.Kind != expected)
        {
            errors.AddFull(key, $"The connection string from {key} is a {Describe(parsed.Kind)} connection string, but the provider is {provider}. Give {key} a {Describe(expected)} connection string, or change the provider.");
        }
        else if (expected == ConnectionStringKind.Unknown && parsed.Kind == ConnectionStringKind.Unknown)
        {
            errors.AddFull(key, $"Cannot tell the provider from the connection string in {key}. Use a PostgreSQL form (Host=...; or postgresql://...) or a SQLite form (Data Source=...; or sqlite:///...), or set {definition.Key("Provider")}.");
        }

        return parsed;
    }

    private static string Describe(ConnectionStringKind kind) => kind == ConnectionStringKind.PostgreSql ? "PostgreSQL" : "SQLite";

    /// <inheritdoc/>
    public override string ToString()
        => $"{Name}: Environment={Environment}, Provider={Provider}, ConnectionString=\"{DisplayConnectionString}\", Pool=[{Pool}], Retry=[{Retry}], CommandTimeout={CommandTimeout.TotalSeconds}s, HealthTimeout={HealthTimeout.TotalSeconds}s";

    private sealed class Errors(DatabaseDefinition definition)
    {
        private List<(string Key, string Message)>? _list;

        public int AtLeast(string relative, int value, int min, string? note = null)
        {
            if (value < min)
            {
                Add(relative, $"{definition.Key(relative)} is {value.ToString(CultureInfo.InvariantCulture)}; it must be at least {min.ToString(CultureInfo.InvariantCulture)}{note}. Set {definition.Key(relative)} to {min.ToString(CultureInfo.InvariantCulture)} or more.");
            }

            return value;
        }

        public int Between(string relative, int value, int min, int max, string? note = null)
        {
            if (value < min || value > max)
            {
                Add(relative, $"{definition.Key(relative)} is {value.ToString(CultureInfo.InvariantCulture)}; it must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}{note}. Set {definition.Key(relative)} to a value in that range.");
            }

            return value;
        }

        public void Add(string relative, string message) => AddFull(definition.Key(relative), message);

        public void AddFull(string key, string message) => (_list ??= []).Add((key, message));

        public void ThrowIfAny()
        {
            if (_list is null)
            {
                return;
            }

            if (_list.Count == 1)
            {
                throw new DatabaseConfigurationException(_list[0].Key, "Invalid database configuration: " + _list[0].Message);
            }

            var text = new StringBuilder("Invalid database configuration (").Append(_list.Count).Append(" problems):");
            foreach ((string _, string message) in _list)
            {
                text.Append(System.Environment.NewLine).Append("- ").Append(message);
            }

            throw new DatabaseConfigurationException(_list[0].Key, text.ToString());
        }
    }
}
