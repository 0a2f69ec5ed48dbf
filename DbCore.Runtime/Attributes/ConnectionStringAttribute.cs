using System;

namespace DbCore;

/// <summary>
/// Marks the one settable <see cref="string"/> property of a settings class that holds the connection string.
/// Its initializer is the embedded default.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class ConnectionStringAttribute : Attribute
{
    /// <summary>
    /// The name of an environment variable (for example <c>DATABASE_URL</c>) that overrides configuration when set.
    /// No environment variable is read unless one is named here.
    /// </summary>
    public string? EnvironmentVariable { get; set; }
}
