// The linked test fixture (DbCore.Tests/Infrastructure/PostgresServer.cs) implements xunit's IAsyncLifetime. The
// benchmarks do not reference xunit, so this stands in for that one interface, with the same shape.
namespace Xunit;

/// <summary>Same shape as xunit 2's <c>IAsyncLifetime</c>.</summary>
public interface IAsyncLifetime
{
    /// <summary>Starts the fixture.</summary>
    Task InitializeAsync();

    /// <summary>Stops the fixture.</summary>
    Task DisposeAsync();
}
