namespace DbCore.Generators;

/// <summary>Metadata names of the DbCore attributes and the members the generator adds.</summary>
internal static class KnownNames
{
    public const string DatabaseSettingsAttribute = "DbCore.DatabaseSettingsAttribute";
    public const string ConnectionStringAttribute = "DbCore.ConnectionStringAttribute";
    public const string PoolProfileAttribute = "DbCore.PoolProfileAttribute";
    public const string QueryAttribute = "DbCore.QueryAttribute";

    /// <summary>Members the generator adds to the settings class; a user member with one of these names collides.</summary>
    public static readonly string[] GeneratedSettingsMembers =
    {
        "Provider", "Pool", "Retry", "CommandTimeoutSeconds", "HealthTimeoutSeconds",
    };
}
