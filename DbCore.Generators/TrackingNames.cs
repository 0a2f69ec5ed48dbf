namespace DbCore.Generators;

/// <summary>Names of the pipeline steps, so tests can assert they stay cached.</summary>
internal static class TrackingNames
{
    public const string Settings = nameof(Settings);
    public const string UniqueSettings = nameof(UniqueSettings);
    public const string Queries = nameof(Queries);
    public const string Sessions = nameof(Sessions);
    public const string BoundQueries = nameof(BoundQueries);
    public const string QueryCatalogs = nameof(QueryCatalogs);
}
