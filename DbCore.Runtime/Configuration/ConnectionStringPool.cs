using System;
using System.Collections.Generic;
using System.Globalization;
using DbCore.ConnectionStrings;
using DbCore.Infrastructure;

namespace DbCore;

/// <summary>
/// The pool keywords a PostgreSQL connection string sets itself (<c>Maximum Pool Size=18</c>, ...). They are honoured
/// over the profile; the settings' own <c>Pool:*</c> keys win over both. Nothing here is secret.
/// </summary>
internal readonly record struct ConnectionStringPool(
    int? MinPoolSize,
    int? MaxPoolSize,
    int? Timeout,
    int? ConnectionLifetime,
    int? ConnectionIdleLifetime,
    int? CommandTimeout)
{
    private const string MinPoolSizeKeyword = "Minimum Pool Size";
    private const string MaxPoolSizeKeyword = "Maximum Pool Size";
    private const string TimeoutKeyword = "Timeout";
    private const string LifetimeKeyword = "Connection Lifetime";
    private const string IdleKeyword = "Connection Idle Lifetime";
    private const string CommandTimeoutKeyword = "Command Timeout";

    /// <param name="parsed">The parsed connection string.</param>
    /// <param name="key">Where the connection string came from, for messages.</param>
    /// <param name="addError">Records a problem (key, message).</param>
    public static ConnectionStringPool Read(ParsedConnectionString parsed, string key, Action<string, string> addError)
    {
        int? Get(string keyword)
        {
            if (!parsed.Values.TryGetValue(keyword, out string? text))
            {
                return null;
            }

            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0)
            {
                return value;
            }

            addError(key, $"The connection string from {key} sets {keyword} to a value that is not a whole number of 0 or more. Fix {keyword} in {key}.");
            return null;
        }

        return new ConnectionStringPool(
            Get(MinPoolSizeKeyword),
            Get(MaxPoolSizeKeyword),
            Get(TimeoutKeyword),
            Get(LifetimeKeyword),
            Get(IdleKeyword),
            Get(CommandTimeoutKeyword));
    }

    /// <summary>One line per keyword the connection string set: honoured over the profile, or overruled by a Pool:* key.</summary>
    public void Describe(PoolSettings settings, PoolProfile profile, string environment, List<string> lines)
    {
        void Line(string keyword, int? fromString, int? fromSettings, string settingKey, int profileValue)
        {
            if (fromString is not { } value)
            {
                return;
            }

            string v = value.ToString(CultureInfo.InvariantCulture);
            lines.Add(fromSettings is { } explicitValue
                ? $"{keyword}={v} in the connection string is overruled by {settingKey}={explicitValue.ToString(CultureInfo.InvariantCulture)}"
                : $"{keyword}={v} from the connection string (the {environment} profile says {profileValue.ToString(CultureInfo.InvariantCulture)})");
        }

        Line(MinPoolSizeKeyword, MinPoolSize, settings.Size, "Pool:Size", profile.Size);
        Line(MaxPoolSizeKeyword, MaxPoolSize, settings.MaxOverflow is { } overflow ? overflow + (settings.Size ?? MinPoolSize ?? profile.Size) : null, "Pool:MaxOverflow", profile.Size + profile.MaxOverflow);
        Line(TimeoutKeyword, Timeout, settings.AcquireTimeoutSeconds, "Pool:AcquireTimeoutSeconds", profile.AcquireTimeoutSeconds);
        Line(LifetimeKeyword, ConnectionLifetime, settings.RecycleSeconds, "Pool:RecycleSeconds", profile.RecycleSeconds);
        Line(IdleKeyword, ConnectionIdleLifetime, settings.IdleSeconds, "Pool:IdleSeconds", profile.IdleSeconds);
    }
}
