extern alias codefixes;

using codefixes::DbCore.CodeFixes;

namespace DbCore.Tests.CodeFixes;

/// <summary>Each fix applied through a real workspace: the resulting document text, and no DBC diagnostic left.</summary>
public sealed class CodeFixTests
{
    [Fact]
    public async Task DBC0001_adds_partial_to_the_class()
    {
        string result = await CodeFixHarness.ApplyAsync(new AddPartialCodeFixProvider(), """
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public sealed class DatabaseSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
            }
            """, "DBC0001");

        Assert.Equal("""
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public sealed partial class DatabaseSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0001_adds_partial_to_the_class_and_its_containing_types()
    {
        const string source = """
            using DbCore;

            namespace App;

            static class Config
            {
                internal class Inner
                {
                    [DatabaseSettings]
                    internal class StoreSettings
                    {
                        [ConnectionString] public string ConnectionString { get; set; } = "Data Source=store.db";
                    }
                }
            }
            """;
        const string expected = """
            using DbCore;

            namespace App;

            static partial class Config
            {
                internal partial class Inner
                {
                    [DatabaseSettings]
                    internal partial class StoreSettings
                    {
                        [ConnectionString] public string ConnectionString { get; set; } = "Data Source=store.db";
                    }
                }
            }
            """;

        // One fix (on whichever type the light bulb is) fixes the chain; Fix All gives the same text.
        Assert.Equal(expected, await CodeFixHarness.ApplyAsync(new AddPartialCodeFixProvider(), source, "DBC0001"));
        Assert.Equal(expected, await CodeFixHarness.ApplyAsync(new AddPartialCodeFixProvider(), source, "DBC0001", fixAll: true));
        await CodeFixHarness.AssertNoDiagnosticAsync(expected);
    }

    [Fact]
    public async Task DBC0003_removes_the_extra_attribute_on_its_own_line()
    {
        string result = await CodeFixHarness.ApplyAsync(new RemoveConnectionStringAttributeCodeFixProvider(), """
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString]
                public string Primary { get; set; } = "Data Source=app.db";

                /// <summary>The read replica.</summary>
                [ConnectionString]
                public string Replica { get; set; } = "Data Source=replica.db";
            }
            """, "DBC0003");

        Assert.Equal("""
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString]
                public string Primary { get; set; } = "Data Source=app.db";

                /// <summary>The read replica.</summary>
                public string Replica { get; set; } = "Data Source=replica.db";
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0003_fix_all_removes_every_extra_attribute_inline_and_in_lists()
    {
        string result = await CodeFixHarness.ApplyAsync(new RemoveConnectionStringAttributeCodeFixProvider(), """
            using System.ComponentModel;
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString] public string Primary { get; set; } = "Data Source=app.db";
                [ConnectionString] public string Replica { get; set; } = "Data Source=replica.db";
                [Description("archive"), ConnectionString] public string Archive { get; set; } = "Data Source=archive.db";
            }
            """, "DBC0003", fixAll: true);

        Assert.Equal("""
            using System.ComponentModel;
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString] public string Primary { get; set; } = "Data Source=app.db";
                public string Replica { get; set; } = "Data Source=replica.db";
                [Description("archive")] public string Archive { get; set; } = "Data Source=archive.db";
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0004_makes_a_string_auto_property_public_get_set()
    {
        string result = await CodeFixHarness.ApplyAsync(new MakeConnectionStringSettableCodeFixProvider(), """
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString]
                internal static string ConnectionString { get; private set; } = "Data Source=app.db";
            }
            """, "DBC0004");

        Assert.Equal("""
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString]
                public string ConnectionString { get; set; } = "Data Source=app.db";
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0004_init_only_becomes_settable()
    {
        string result = await CodeFixHarness.ApplyAsync(new MakeConnectionStringSettableCodeFixProvider(), """
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString] public string ConnectionString { get; init; } = "Data Source=app.db";
            }
            """, "DBC0004");

        Assert.Contains("[ConnectionString] public string ConnectionString { get; set; } = \"Data Source=app.db\";", result, StringComparison.Ordinal);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0004_offers_no_fix_for_a_non_string_property()
        => Assert.False(await CodeFixHarness.OffersFixAsync(new MakeConnectionStringSettableCodeFixProvider(), """
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString] public int Port { get; set; }
            }
            """, "DBC0004"));

    [Fact]
    public async Task DBC0009_removes_the_password_pair_and_says_where_it_goes()
    {
        string result = await CodeFixHarness.ApplyAsync(new RemovePasswordCodeFixProvider(), """
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString(EnvironmentVariable = "DATABASE_URL")]
                public string ConnectionString { get; set; } = "Host=localhost;Database=app;Password=\"se;cret\";Username=app";
            }
            """, "DBC0009");

        Assert.Equal("""
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                // The password was removed from this default (DBC0009). Set the full connection string, password included, in the DATABASE_URL environment variable or "ConnectionStrings:Database" in configuration or user secrets.
                [ConnectionString(EnvironmentVariable = "DATABASE_URL")]
                public string ConnectionString { get; set; } = "Host=localhost;Database=app;Username=app";
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0009_removes_the_password_from_a_url_and_uses_the_name()
    {
        string result = await CodeFixHarness.ApplyAsync(new RemovePasswordCodeFixProvider(), """
            using DbCore;

            namespace App;

            [DatabaseSettings(Name = "Orders")]
            public partial class OrdersSettings
            {
                [ConnectionString] public string Url { get; set; } = @"postgresql://app:secret@localhost:5432/orders";
            }
            """, "DBC0009");

        Assert.Equal("""
            using DbCore;

            namespace App;

            [DatabaseSettings(Name = "Orders")]
            public partial class OrdersSettings
            {
                // The password was removed from this default (DBC0009). Set the full connection string, password included, in "ConnectionStrings:Orders" in configuration or user secrets.
                [ConnectionString] public string Url { get; set; } = @"postgresql://app@localhost:5432/orders";
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0011_removes_abstract()
    {
        string result = await CodeFixHarness.ApplyAsync(new RemoveStaticOrAbstractCodeFixProvider(), """
            using DbCore;

            namespace App;

            [DatabaseSettings]
            abstract partial class DatabaseSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
            }
            """, "DBC0011");

        Assert.Equal("""
            using DbCore;

            namespace App;

            [DatabaseSettings]
            partial class DatabaseSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0011_offers_no_fix_for_a_generic_class()
        => Assert.False(await CodeFixHarness.OffersFixAsync(new RemoveStaticOrAbstractCodeFixProvider(), """
            using DbCore;

            namespace App;

            [DatabaseSettings]
            public partial class DatabaseSettings<T>
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
            }
            """, "DBC0011"));
}
