using System;

namespace DbCore;

/// <summary>
/// Thrown at startup (first resolve of the settings or accessor) when a configuration value is invalid. The message names
/// the key, the rule and the fix; it never contains a password.
/// </summary>
public sealed class DatabaseConfigurationException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The configuration key at fault (the first one when several are).</param>
    /// <param name="message">The message (already redacted).</param>
    public DatabaseConfigurationException(string key, string message)
        : base(message)
    {
        Key = key;
    }

    /// <summary>The configuration key at fault, for example <c>Database:Pool:Size</c>.</summary>
    public string Key { get; }
}
