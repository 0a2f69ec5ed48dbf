using System;
using System.ComponentModel;

namespace DbCore.Infrastructure;

/// <summary>
/// What the generator knows about one settings class at compile time: names, keys, the pinned provider and the pool
/// profiles. Created once per settings class by generated code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DatabaseDefinition
{
    /// <summary>Creates a definition.</summary>
    /// <param name="name">The base name B of the generated members.</param>
    /// <param name="settingsTypeName">The settings class name, for messages.</param>
    /// <param name="sectionName">The configuration section.</param>
    /// <param name="connectionStringProperty">The name of the <c>[ConnectionString]</c> property.</param>
    /// <param name="environmentVariable">The environment variable named on <c>[ConnectionString]</c>, if any.</param>
    /// <param name="provider">The provider pinned by the attribute (<see cref="DatabaseProvider.Auto"/> when not pinned).</param>
    /// <param name="profiles">The declared pool profiles, or <see langword="null"/> for the built-in ones.</param>
    public DatabaseDefinition(
        string name,
        string settingsTypeName,
        string sectionName,
        string connectionStringProperty,
        string? environmentVariable,
        DatabaseProvider provider,
        PoolProfile[]? profiles)
    {
        Name = name;
        SettingsTypeName = settingsTypeName;
        SectionName = sectionName;
        ConnectionStringProperty = connectionStringProperty;
        EnvironmentVariable = environmentVariable;
        Provider = provider;
        Profiles = profiles is null || profiles.Length == 0 ? PoolProfile.BuiltIn : profiles;
    }

    /// <summary>The base name B.</summary>
    public string Name { get; }

    /// <summary>The settings class name.</summary>
    public string SettingsTypeName { get; }

    /// <summary>The configuration section.</summary>
    public string SectionName { get; }

    /// <summary>The connection string property name.</summary>
    public string ConnectionStringProperty { get; }

    /// <summary>The overriding environment variable, if any.</summary>
    public string? EnvironmentVariable { get; }

    /// <summary>The pinned provider, or Auto.</summary>
    public DatabaseProvider Provider { get; }

    /// <summary>The pool profiles in force.</summary>
    public PoolProfile[] Profiles { get; }

    /// <summary>The profile for <paramref name="environment"/>: its own (case-insensitive), else Production's, else 10/20.</summary>
    public PoolProfile FindProfile(string environment)
    {
        PoolProfile? production = null;
        foreach (PoolProfile profile in Profiles)
        {
            if (string.Equals(profile.Environment, environment, StringComparison.OrdinalIgnoreCase))
            {
                return profile;
            }

            if (string.Equals(profile.Environment, "Production", StringComparison.OrdinalIgnoreCase))
            {
                production = profile;
            }
        }

        return production ?? PoolProfile.BuiltIn[0];
    }

    /// <summary>The full key of a value under the section, e.g. <c>Database:Pool:Size</c>.</summary>
    public string Key(string relative) => SectionName + ":" + relative;
}
