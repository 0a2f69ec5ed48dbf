using Xunit;

namespace DbCore.Tests.Infrastructure;

/// <summary>
/// A <see cref="FactAttribute"/> for tests that need <see cref="PostgresServer"/>: skipped when the PostgreSQL
/// binaries are not installed, except in CI (<c>CI=true</c>), where a missing server must fail the run.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresRequirement.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>The <see cref="TheoryAttribute"/> counterpart of <see cref="PostgresFactAttribute"/>.</summary>
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (PostgresRequirement.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

internal static class PostgresRequirement
{
    public const string MissingBinariesMessage = "PostgreSQL binaries (initdb) not found; install the Debian package postgresql";

    private static readonly Lazy<string?> Reason = new(() =>
        PostgresBinaries.InitDbExists()
        || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? null
            : MissingBinariesMessage);

    /// <summary>Static check only: is <c>initdb</c> on the PATH or in /usr/lib/postgresql/*/bin?</summary>
    public static string? SkipReason => Reason.Value;
}
