using Xunit;

namespace DbCore.Tests.Infrastructure;

/// <summary>
/// Shares one <see cref="PostgresServer"/> between the test classes marked <c>[Collection(PostgresCollection.Name)]</c>.
/// Tests in one collection run one after another; use <see cref="PostgresServer.CreateDatabaseAsync"/> per test.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
