namespace DbCore.Tests.Generator;

public sealed class GeneratorBaselineTests
{
    [Fact]
    public void Minimal_settings_class() => GeneratorHarness.VerifyAgainstBaseline(
        """
        using DbCore;

        namespace App;

        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "Minimal.g.cs");

    [Fact]
    public void All_profiles_and_environment_variable() => GeneratorHarness.VerifyAgainstBaseline(
        """
        using DbCore;

        namespace App.Data;

        [DatabaseSettings(SectionName = "Db")]
        [PoolProfile("Production", Size = 10, MaxOverflow = 20, AcquireTimeoutSeconds = 15, RecycleSeconds = 1800, IdleSeconds = 60, WarmUp = true)]
        [PoolProfile("Development", Size = 5, MaxOverflow = 10)]
        [PoolProfile("Staging", Size = 2, MaxOverflow = 0)]
        public partial class DatabaseSettings
        {
            [ConnectionString(EnvironmentVariable = "DATABASE_URL")]
            public string ConnectionString { get; set; } = "Data Source=app.db";

            public string? Tag { get; set; }
            public bool Verbose { get; set; }
            public int? BatchSize { get; set; }
            public System.TimeSpan Window { get; set; }
            public System.DayOfWeek Day { get; set; }
        }
        """,
        "AllProfiles.g.cs");

    [Fact]
    public void Pinned_postgresql() => GeneratorHarness.VerifyAgainstBaseline(
        """
        using DbCore;

        namespace App;

        [DatabaseSettings(Provider = DatabaseProvider.PostgreSql, Name = "Orders")]
        internal partial class OrdersOptions
        {
            [ConnectionString(EnvironmentVariable = "ORDERS_URL")]
            public string Cs { get; set; } = "Host=localhost;Database=orders;Username=app";
        }
        """,
        "PinnedPostgreSql.g.cs");

    [Fact]
    public void Pinned_sqlite_in_the_global_namespace() => GeneratorHarness.VerifyAgainstBaseline(
        """
        using DbCore;

        [DatabaseSettings(Provider = DatabaseProvider.Sqlite)]
        public partial class CacheSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "sqlite:///:memory:";
        }
        """,
        "PinnedSqlite.g.cs");

    [Fact]
    public void Two_settings_classes() => GeneratorHarness.VerifyAgainstBaseline(
        """
        using DbCore;

        namespace App;

        [DatabaseSettings]
        public partial class MainDbSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "postgresql://app@localhost/main";
        }

        [DatabaseSettings]
        public partial class AnalyticsDbSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=analytics.db";
        }
        """,
        "TwoClasses.g.cs");

    [Fact]
    public void Nested_settings_class() => GeneratorHarness.VerifyAgainstBaseline(
        """
        using DbCore;

        namespace App;

        public static partial class Config
        {
            [DatabaseSettings]
            public partial class StoreSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=store.db";
            }
        }
        """,
        "Nested.g.cs");

    [Fact]
    public void User_property_named_like_a_well_known_key_binds_without_clashing()
    {
        var compilation = GeneratorHarness.CreateCompilation(
            """
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
                public int PoolSize { get; set; }
                public int RetryMaxAttempts { get; set; }
            }
            """);
        var (_, result, output) = GeneratorHarness.Run(compilation);
        Assert.Empty(result.Diagnostics);
        GeneratorHarness.AssertCompilesWithoutWarnings(output);
    }

    [Fact]
    public void Classes_sharing_any_generated_type_name_are_not_generated()
    {
        var compilation = GeneratorHarness.CreateCompilation(
            """
            using DbCore;

            namespace App;

            [DatabaseSettings(Name = "Main")]
            public partial class MainSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=a.db";
            }

            [DatabaseSettings(Name = "MainSession")]
            public partial class OtherSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=b.db";
            }
            """);
        var (_, result, output) = GeneratorHarness.Run(compilation);
        Assert.Empty(result.GeneratedTrees);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
    }

    [Theory]
    [InlineData("namespace @event.App;", "public partial class @class", "[ConnectionString] public string @default { get; set; } = \"Data Source=a.db\"; public int @int { get; set; }")]
    [InlineData("namespace App;", "public partial class StoreSettings", "[ConnectionString] public string Url { get; set; } = \"Data Source=a.db\"; public string? @var { get; set; }")]
    public void Keyword_names_compile(string namespaceLine, string classLine, string members)
    {
        var compilation = GeneratorHarness.CreateCompilation(
            $$"""
            using DbCore;

            {{namespaceLine}}

            [DatabaseSettings(Name = "Store", SectionName = "R&D <store>")]
            {{classLine}}
            {
                {{members}}
            }
            """);
        var (_, result, output) = GeneratorHarness.Run(compilation);
        Assert.Empty(result.Diagnostics);
        Assert.Single(result.GeneratedTrees, t => !t.FilePath.EndsWith(".QueryCatalog.g.cs", StringComparison.Ordinal));
        Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("Store.QueryCatalog.g.cs", StringComparison.Ordinal)); // VerifyQueriesAsync, no query
        GeneratorHarness.AssertCompilesWithoutWarnings(output);
    }

    [Fact]
    public void Private_nested_settings_class_is_not_generated()
    {
        var compilation = GeneratorHarness.CreateCompilation(
            """
            using DbCore;

            namespace App;

            public partial class Outer
            {
                [DatabaseSettings]
                private partial class HiddenSettings
                {
                    [ConnectionString] public string ConnectionString { get; set; } = "Data Source=a.db";
                }
            }
            """);
        var (_, result, output) = GeneratorHarness.Run(compilation);
        Assert.Empty(result.GeneratedTrees);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
    }
}
