using System;
using System.Collections.Generic;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore.Infrastructure;

/// <summary>
/// Startup check of the provider's own rules: builds exactly what <see cref="DatabaseEngine"/> builds (no I/O), so a
/// value the provider rejects becomes a message that names the keyword and the fix instead of a raw exception. Provider
/// messages may quote the value (and so a password or a fragment of one): they are never passed on as they are.
/// </summary>
internal static partial class ProviderConnectionStrings
{
    private static readonly Dictionary<string, string> ValueRules = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Host"] = "a host name or address, or several separated by ',' each with an optional ':port' (IPv6 in brackets, e.g. [::1]:5432)",
        ["Port"] = "a number from 1 to 65535",
        ["SSL Mode"] = OneOf(Enum.GetNames<SslMode>()),
        ["SSL Negotiation"] = OneOf(Enum.GetNames<SslNegotiation>()),
        ["GSS Encryption Mode"] = OneOf(Enum.GetNames<GssEncryptionMode>()),
        ["Channel Binding"] = OneOf(Enum.GetNames<ChannelBinding>()),
        ["Array Nullability Mode"] = OneOf(Enum.GetNames<ArrayNullabilityMode>()),
        ["Target Session Attributes"] = "one of any, read-write, read-only, primary, standby, prefer-primary, prefer-standby",
        ["Mode"] = OneOf(Enum.GetNames<SqliteOpenMode>()),
        ["Cache"] = OneOf(Enum.GetNames<SqliteCacheMode>()),
    };

    /// <summary>
    /// Null when the provider accepts the connection string with the settings applied; else what is wrong and how to fix
    /// it, without any value from the connection string. <paramref name="key"/> is where the connection string came from.
    /// </summary>
    internal static string? FindProblem(DatabaseOptions options, string key)
    {
        IReadOnlyDictionary<string, string> values = options.ParsedConnectionString.Values;
        Exception? failure = TryBuild(options);
        if (failure is null)
        {
            return null;
        }

        // Which keyword: each one alone on top of a minimal valid string.
        foreach (KeyValuePair<string, string> pair in values)
        {
            Exception? alone = options.Provider == DatabaseProvider.PostgreSql ? TryPostgresKeyword(pair.Key, pair.Value) : TrySqliteKeyword(pair.Key, pair.Value);
            if (alone is not null)
            {
                return $"The connection string from {key} has an invalid value for '{pair.Key}' (not shown); it must be {RuleFor(pair.Key, alone)}. Fix '{pair.Key}' in {key}.";
            }
        }

        string provider = options.Provider == DatabaseProvider.PostgreSql ? "Npgsql" : "Microsoft.Data.Sqlite";
        string detail = QuotesNothingOf(failure.Message, values) ? $": {failure.Message}" : " (its message is not shown because it quotes part of the connection string)";
        return $"{provider} rejects the combination of values in the connection string from {key}{detail}. Fix the value of {key}.";
    }

    private static Exception? TryBuild(DatabaseOptions options) => Attempt(() =>
    {
        if (options.Provider == DatabaseProvider.PostgreSql)
        {
            var builder = new NpgsqlDataSourceBuilder(options.ParsedConnectionString.Normalized);
            ApplyPostgres(builder.ConnectionStringBuilder, options);
            BuildAndDispose(builder);
        }
        else
        {
            SqliteConnectionStringBuilder sqlite = BuildSqlite(options);
            SqliteFactory.Instance.CreateDataSource(sqlite.ConnectionString).Dispose();
        }
    });

    /// <summary>The provider's rejection of what <paramref name="build"/> does, or null; other exceptions propagate.</summary>
    private static Exception? Attempt(Action build)
    {
        try
        {
            build();
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or InvalidOperationException or NotSupportedException)
        {
            return ex;
        }
    }

    /// <summary>One multi-host source when the string names several hosts, as the engine builds it.</summary>
    private static void BuildAndDispose(NpgsqlDataSourceBuilder builder)
    {
        if (builder.ConnectionStringBuilder.Host is { } host && host.Contains(',', StringComparison.Ordinal))
        {
            builder.BuildMultiHost().Dispose();
        }
        else
        {
            builder.Build().Dispose();
        }
    }

    private static Exception? TryPostgresKeyword(string keyword, string value) => Attempt(() =>
    {
        var builder = new NpgsqlDataSourceBuilder("Host=localhost");
        builder.ConnectionStringBuilder[keyword] = value;
        BuildAndDispose(builder);
    });

    private static Exception? TrySqliteKeyword(string keyword, string value) => Attempt(() =>
    {
        var builder = new SqliteConnectionStringBuilder("Data Source=:memory:");
        builder[keyword] = value;
        SqliteFactory.Instance.CreateDataSource(builder.ConnectionString).Dispose();
    });

    private static string RuleFor(string keyword, Exception failure)
    {
        if (ValueRules.TryGetValue(keyword, out string? rule))
        {
            return rule;
        }

        for (Exception? e = failure; e is not null; e = e.InnerException)
        {
            if (e is FormatException && e.Message.Contains("Boolean", StringComparison.Ordinal))
            {
                return "True or False";
            }

            if (e is FormatException or OverflowException)
            {
                return "a whole number in the provider's range";
            }
        }

        return "a value the provider accepts (see its connection string documentation)";
    }

    private static string OneOf(string[] names) => "one of " + string.Join(", ", names);

    /// <summary>
    /// True when <paramref name="message"/> quotes nothing (no quote characters, '@' or '://') and contains no value of the
    /// connection string of 3 characters or more, nor any 6-character piece of one.
    /// </summary>
    private static bool QuotesNothingOf(string message, IReadOnlyDictionary<string, string> values)
    {
        if (message.AsSpan().IndexOfAny("'\"`@") >= 0 || message.Contains("://", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (string value in values.Values)
        {
            if (value.Length >= 3 && value.Length < 6 && message.Contains(value, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            for (int i = 0; i + 6 <= value.Length; i++)
            {
                if (message.Contains(value.AsSpan(i, 6), StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
