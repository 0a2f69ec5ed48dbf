using System;
using System.ComponentModel;
using System.Globalization;
using System.Linq;

namespace DbCore.Infrastructure;

/// <summary>Reflection-free parsing of configuration values for generated binders. Failures name the key and the fix.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class SettingsBinder
{
    /// <summary>Parses an integer value of <paramref name="key"/>.</summary>
    public static int ParseInt32(string value, string key)
    {
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int result))
        {
            return result;
        }

        // A whole number out of range: say what the range is rather than "not a number".
        bool integer = value.Trim().TrimStart('-', '+').Length > 0 && value.Trim().TrimStart('-', '+').All(char.IsAsciiDigit);
        throw Invalid(key, value, integer ? "a whole number from -2147483648 to 2147483647 (see the key's own range in docs/configuration.md)" : "a whole number, for example 10");
    }

    /// <summary>Parses a 64-bit integer value of <paramref name="key"/>.</summary>
    public static long ParseInt64(string value, string key)
        => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long result) ? result : throw Invalid(key, value, "a whole number");

    /// <summary>Parses a floating point value of <paramref name="key"/>.</summary>
    public static double ParseDouble(string value, string key)
        => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double result) ? result : throw Invalid(key, value, "a number, for example 1.5");

    /// <summary>Parses a boolean value of <paramref name="key"/>.</summary>
    public static bool ParseBoolean(string value, string key)
        => bool.TryParse(value, out bool result) ? result : throw Invalid(key, value, "true or false");

    /// <summary>Parses a time span value of <paramref name="key"/> (c format, e.g. 00:00:30).</summary>
    public static TimeSpan ParseTimeSpan(string value, string key)
        => TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out TimeSpan result) ? result : throw Invalid(key, value, "a time span such as 00:00:30");

    /// <summary>Parses a provider name of <paramref name="key"/> (case-insensitive names only, no numbers).</summary>
    public static DatabaseProvider ParseProvider(string value, string key)
    {
        string v = value.Trim();
        if (v.Equals("Auto", StringComparison.OrdinalIgnoreCase))
        {
            return DatabaseProvider.Auto;
        }

        if (v.Equals("PostgreSql", StringComparison.OrdinalIgnoreCase) || v.Equals("Postgres", StringComparison.OrdinalIgnoreCase))
        {
            return DatabaseProvider.PostgreSql;
        }

        if (v.Equals("Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return DatabaseProvider.Sqlite;
        }

        throw Invalid(key, value, "Auto, PostgreSql or Sqlite");
    }

    /// <summary>Parses an enum value of <paramref name="key"/> by name.</summary>
    public static TEnum ParseEnum<TEnum>(string value, string key)
        where TEnum : struct, Enum
        => Enum.TryParse(value.Trim(), ignoreCase: true, out TEnum result) && !char.IsDigit(value.Trim()[0]) ? result : throw Invalid(key, value, string.Join(", ", Enum.GetNames<TEnum>()));

    /// <summary>Reads the environment variable named on <c>[ConnectionString]</c>; empty counts as unset.</summary>
    public static string? GetEnvironmentVariable(string name)
    {
        string? value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    private static DatabaseConfigurationException Invalid(string key, string value, string expected)
        => new(key, $"Invalid database configuration: {key} is '{Shorten(value)}', which is not valid. Set {key} to {expected}.");

    private static string Shorten(string value) => value.Length <= 40 ? value : value.Substring(0, 40) + "...";
}
