using Microsoft.CodeAnalysis;

namespace DbCore.Tests.Diagnostics;

/// <summary>For every DBC ID: the bad snippet reports exactly the expected diagnostic and span, the corrected one reports nothing.</summary>
public sealed class SettingsDiagnosticTests
{
    private const string Usings = "using DbCore;\n\nnamespace App;\n\n";

    // DBC0001 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0001_class_not_partial() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public class [|DatabaseSettings|]
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0001", DiagnosticSeverity.Error,
        "'DatabaseSettings' must be declared partial so that DbCore can generate its members; add the 'partial' modifier");

    [Fact]
    public Task DBC0001_containing_type_not_partial() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        public static class [|Config|]
        {
            [DatabaseSettings]
            public partial class StoreSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=store.db";
            }
        }
        """,
        "DBC0001", DiagnosticSeverity.Error,
        "'Config' must be declared partial so that DbCore can generate its members; add the 'partial' modifier");

    [Fact]
    public Task DBC0001_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        public static partial class Config
        {
            [DatabaseSettings]
            public partial class StoreSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=store.db";
            }
        }
        """);

    // DBC0002 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0002_no_connection_string_property() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class [|DatabaseSettings|]
        {
            public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0002", DiagnosticSeverity.Error,
        "'DatabaseSettings' has no property marked [ConnectionString]; add a settable string property with [ConnectionString]");

    [Fact]
    public Task DBC0002_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """);

    // DBC0003 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0003_two_connection_string_properties() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string Primary { get; set; } = "Data Source=app.db";
            [[|ConnectionString|]] public string Replica { get; set; } = "Data Source=replica.db";
        }
        """,
        "DBC0003", DiagnosticSeverity.Error,
        "'DatabaseSettings' marks both 'Primary' and 'Replica' with [ConnectionString]; keep [ConnectionString] on exactly one property");

    [Fact]
    public Task DBC0003_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string Primary { get; set; } = "Data Source=app.db";
            public string Replica { get; set; } = "Data Source=replica.db";
        }
        """);

    // DBC0004 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0004_not_a_string() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public int [|Port|] { get; set; }
        }
        """,
        "DBC0004", DiagnosticSeverity.Error,
        "'Port' is of type 'int'; [ConnectionString] needs a non-static string property with a public setter");

    [Fact]
    public Task DBC0004_not_settable() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string [|ConnectionString|] { get; } = "Data Source=app.db";
        }
        """,
        "DBC0004", DiagnosticSeverity.Error,
        "'ConnectionString' is not settable; [ConnectionString] needs a non-static string property with a public setter");

    [Fact]
    public Task DBC0004_private_setter() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string [|ConnectionString|] { get; private set; } = "Data Source=app.db";
        }
        """,
        "DBC0004", DiagnosticSeverity.Error,
        "'ConnectionString' is settable only from inside the class; [ConnectionString] needs a non-static string property with a public setter");

    [Fact]
    public Task DBC0004_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """);

    // DBC0005 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0005_invalid_pool_values() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        [PoolProfile("Production", [|Size = -1|], MaxOverflow = 20, [|IdleSeconds = 5|])]
        [PoolProfile("Development", Size = 0, [|MaxOverflow = 0|], [|AcquireTimeoutSeconds = 2000|])]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0005", DiagnosticSeverity.Error,
        "Pool profile 'Production': Size is -1; it must be at least 0",
        "Pool profile 'Production': IdleSeconds is 5; it must be at least 10 (Npgsql prunes idle connections every 10 seconds)",
        "Pool profile 'Development': Size + MaxOverflow is 0; allow at least one connection",
        "Pool profile 'Development': AcquireTimeoutSeconds is 2000; it must be between 1 and 1024");

    [Fact]
    public Task DBC0005_empty_environment() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        [PoolProfile([|""|])]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0005", DiagnosticSeverity.Error,
        "Pool profile '': the environment name is empty; name the environment, for example \"Production\"");

    [Fact]
    public Task DBC0005_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        [DatabaseSettings]
        [PoolProfile("Production", Size = 0, MaxOverflow = 20, IdleSeconds = 10)]
        [PoolProfile("Development", Size = 0, MaxOverflow = 1, AcquireTimeoutSeconds = 1024)]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """);

    // DBC0006 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0006_duplicate_profile_case_insensitive() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        [PoolProfile("Production", Size = 10)]
        [[|PoolProfile("production", Size = 20)|]]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0006", DiagnosticSeverity.Error,
        "Pool profile 'production' is declared more than once (environment names are compared case-insensitively); remove or rename one");

    [Fact]
    public Task DBC0006_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        [DatabaseSettings]
        [PoolProfile("Production", Size = 10)]
        [PoolProfile("Staging", Size = 20)]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """);

    // DBC0007 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0007_misspelled_password_keyword() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = [|"Host=localhost;Database=app;Pasword=secret"|];
        }
        """,
        "DBC0007", DiagnosticSeverity.Error,
        "The default connection string is invalid: Unknown connection string keyword 'Pasword'. Did you mean 'Password'?");

    [Fact]
    public Task DBC0007_misspelled_data_source() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = [|"Data Sourse=app.db"|];
        }
        """,
        "DBC0007", DiagnosticSeverity.Error,
        "The default connection string is invalid: Unknown connection string keyword 'Data Sourse'. Did you mean 'Data Source'?");

    [Fact]
    public Task DBC0007_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """);

    // DBC0008 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0008_provider_mismatch() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings(Provider = DatabaseProvider.Sqlite)]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = [|"Host=localhost;Database=app"|];
        }
        """,
        "DBC0008", DiagnosticSeverity.Error,
        "'DatabaseSettings' is pinned to Sqlite, but its default connection string is a PostgreSQL connection string; change the literal or the Provider");

    [Fact]
    public Task DBC0008_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        [DatabaseSettings(Provider = DatabaseProvider.PostgreSql)]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Host=localhost;Database=app";
        }
        """);

    // DBC0009 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0009_password_in_literal() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = [|"Host=localhost;Username=app;Password=secret"|];
        }
        """,
        "DBC0009", DiagnosticSeverity.Warning,
        "The default connection string of 'DatabaseSettings' contains a password; move the password to configuration, user secrets or an environment variable");

    [Fact]
    public Task DBC0009_password_in_url() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = [|"postgresql://app:secret@localhost/app"|];
        }
        """,
        "DBC0009", DiagnosticSeverity.Warning,
        "The default connection string of 'DatabaseSettings' contains a password; move the password to configuration, user secrets or an environment variable");

    [Fact]
    public Task DBC0009_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString(EnvironmentVariable = "DATABASE_URL")]
            public string ConnectionString { get; set; } = "Host=localhost;Username=app";
        }
        """);

    // DBC0010 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0010_user_member_named_like_a_generated_member() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
            public int [|Pool|] { get; set; }
        }
        """,
        "DBC0010", DiagnosticSeverity.Error,
        "'DatabaseSettings' generates 'Pool', which is already a member of 'DatabaseSettings'; give it a unique [DatabaseSettings(Name = \"...\")] or rename the other member");

    [Fact]
    public Task DBC0010_name_is_not_an_identifier() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [[|DatabaseSettings(Name = "my-db")|]]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0010", DiagnosticSeverity.Error,
        "'DatabaseSettings' generates 'my-db', which is not a valid C# identifier; give it a unique [DatabaseSettings(Name = \"...\")] or rename the other member");

    [Fact]
    public Task DBC0010_generated_type_collides_with_a_user_type() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        public class Database { }

        [[|DatabaseSettings|]]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0010", DiagnosticSeverity.Error,
        "'DatabaseSettings' generates 'Database', which is already declared in namespace 'App' as a non-partial class; give it a unique [DatabaseSettings(Name = \"...\")] or rename the other member");

    [Fact]
    public Task DBC0010_generated_session_collides_with_a_user_struct() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        public partial struct DatabaseSession { }

        [[|DatabaseSettings|]]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0010", DiagnosticSeverity.Error,
        "'DatabaseSettings' generates 'DatabaseSession', which is already declared in namespace 'App' as a non-partial struct; give it a unique [DatabaseSettings(Name = \"...\")] or rename the other member");

    [Fact]
    public Task DBC0010_two_settings_classes_generate_the_same_names() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [[|DatabaseSettings(Name = "Main")|]]
        public partial class PrimarySettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=primary.db";
        }

        [[|DatabaseSettings(Name = "Main")|]]
        public partial class SecondarySettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=secondary.db";
        }
        """,
        "DBC0010", DiagnosticSeverity.Error,
        "'PrimarySettings' generates 'Main', which is also generated in namespace 'App' for 'SecondarySettings'; give it a unique [DatabaseSettings(Name = \"...\")] or rename the other member",
        "'SecondarySettings' generates 'Main', which is also generated in namespace 'App' for 'PrimarySettings'; give it a unique [DatabaseSettings(Name = \"...\")] or rename the other member");

    [Fact]
    public Task DBC0010_fixed_with_unique_names_and_a_partial_extension_of_the_accessor() => AnalyzerHarness.AssertCleanAsync(
        Usings + """
        [DatabaseSettings(Name = "Primary")]
        public partial class PrimarySettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=primary.db";
        }

        [DatabaseSettings(Name = "Secondary")]
        public partial class SecondarySettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=secondary.db";
            public string? Tag { get; set; }
        }

        // A user part of a generated class is an extension, not a collision.
        public partial class Primary
        {
            public string Describe() => "primary";
        }
        """,
        settingsClasses: 2);

    [Fact]
    public Task DBC0010_same_name_in_different_namespaces_is_fine() => AnalyzerHarness.AssertCleanAsync(
        """
        using DbCore;

        namespace One
        {
            [DatabaseSettings(Name = "Main")]
            public partial class MainSettings { [ConnectionString] public string Cs { get; set; } = "Data Source=one.db"; }
        }

        namespace Two
        {
            [DatabaseSettings(Name = "Main")]
            public partial class MainSettings { [ConnectionString] public string Cs { get; set; } = "Data Source=two.db"; }
        }
        """,
        settingsClasses: 2);

    // DBC0011 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0011_abstract() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public abstract partial class [|DatabaseSettings|]
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0011", DiagnosticSeverity.Error,
        "'DatabaseSettings' cannot be a settings class because it is abstract; declare it as a non-generic, non-static, non-abstract class (not a record, not nested in a generic type)");

    [Fact]
    public Task DBC0011_generic() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial class [|DatabaseSettings|]<T>
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0011", DiagnosticSeverity.Error,
        "'DatabaseSettings' cannot be a settings class because it is generic; declare it as a non-generic, non-static, non-abstract class (not a record, not nested in a generic type)");

    [Fact]
    public Task DBC0011_nested_in_generic() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        public partial class Outer<T>
        {
            [DatabaseSettings]
            public partial class [|StoreSettings|]
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
            }
        }
        """,
        "DBC0011", DiagnosticSeverity.Error,
        "'StoreSettings' cannot be a settings class because it is nested in a generic type; declare it as a non-generic, non-static, non-abstract class (not a record, not nested in a generic type)");

    [Fact]
    public Task DBC0011_record() => AnalyzerHarness.AssertDiagnosticsAsync(
        Usings + """
        [DatabaseSettings]
        public partial record [|DatabaseSettings|]
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """,
        "DBC0011", DiagnosticSeverity.Error,
        "'DatabaseSettings' cannot be a settings class because it is a record; declare it as a non-generic, non-static, non-abstract class (not a record, not nested in a generic type)");

    [Fact]
    public Task DBC0011_fixed() => AnalyzerHarness.AssertCleanAsync(Usings + """
        [DatabaseSettings]
        public sealed partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }
        """);
}
