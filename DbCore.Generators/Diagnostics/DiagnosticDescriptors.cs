using Microsoft.CodeAnalysis;

namespace DbCore.Generators.Diagnostics;

/// <summary>Every DbCore diagnostic, in one place. Messages say how to fix the problem.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "DbCore";

    /// <summary>
    /// Where the docs pages live: the one place to change when the repository moves. Every help link is this base plus
    /// <c>{id}.md</c>, the same relative path as the page in the repository (<c>docs/diagnostics/DBCxxxx.md</c>); a test
    /// checks that every link ends in an existing page. IDEs open only absolute links, so the base stays absolute.
    /// </summary>
    public const string HelpLinkBase = "https://github.com/dbcore/dbcore/blob/main/docs/diagnostics/";

    public static string HelpLink(string id) => HelpLinkBase + id + ".md";

    private static DiagnosticDescriptor Error(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

    private static DiagnosticDescriptor Warning(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

    public static readonly DiagnosticDescriptor PlaceholderWithoutParameter = Error(
        DiagnosticIds.PlaceholderWithoutParameter,
        "SQL placeholder has no method parameter",
        "The SQL of '{0}' uses '@{1}', but the method has no parameter named '{1}'; add the parameter (names match case- and underscore-insensitively)");

    public static readonly DiagnosticDescriptor UnusedQueryParameter = Warning(
        DiagnosticIds.UnusedQueryParameter,
        "Query method parameter is not used by the SQL",
        "Parameter '{1}' of '{0}' is not used by the SQL; use it as '@{1}' or remove it");

    public static readonly DiagnosticDescriptor SqlNotConstant = Error(
        DiagnosticIds.SqlNotConstant,
        "Query SQL must be one constant string",
        "The SQL of '{0}' must be a string literal or a constant, not {1}; values go in parameters (@name), never into the SQL text");

    public static readonly DiagnosticDescriptor UnsupportedQueryType = Error(
        DiagnosticIds.UnsupportedQueryType,
        "Unsupported return or row type for a query method",
        "'{0}' cannot be generated: {1}");

    public static readonly DiagnosticDescriptor RequiredMemberNotSelected = Error(
        DiagnosticIds.RequiredMemberNotSelected,
        "The select list does not cover a required member",
        "The SQL of '{0}' selects no column for '{1}' of '{2}', which needs a value; select a column named '{1}' (case and underscores ignored) or alias one with AS");

    public static readonly DiagnosticDescriptor ColumnWithoutMember = Warning(
        DiagnosticIds.ColumnWithoutMember,
        "A selected column maps to no member",
        "The SQL of '{0}' selects '{1}', which no member of '{2}' takes; remove the column or add a member for it");

    public static readonly DiagnosticDescriptor SelectStar = Warning(
        DiagnosticIds.SelectStar,
        "SELECT * in a query method",
        "The SQL of '{0}' selects '*': the columns then change with the table and cannot be checked; list the columns");

    public static readonly DiagnosticDescriptor QueryMethodNotPartial = Error(
        DiagnosticIds.QueryMethodNotPartial,
        "Query method must be a partial method without a body",
        "'{0}' must be declared 'partial' without a body so that DbCore can generate it; add the 'partial' modifier and end the declaration with ';' instead of a body");

    public static readonly DiagnosticDescriptor QueryOutsideSession = Error(
        DiagnosticIds.QueryOutsideSession,
        "[Query] outside a generated session",
        "'{0}' is declared in '{1}', which is not a session DbCore generates; declare it in a 'partial class' named after a [DatabaseSettings] class's session (for example 'DatabaseSession'), in the same namespace");

    /// <summary>DBC0109 for a static or generic method in a session: the same rule, a message that says what to change.</summary>
    public static readonly DiagnosticDescriptor QueryMethodNotInstance = Error(
        DiagnosticIds.QueryOutsideSession,
        "[Query] outside a generated session",
        "'{0}' is {1}; a [Query] method must be a non-generic instance method of a generated session, so that it runs on the session's connection");

    public static readonly DiagnosticDescriptor UnsupportedQueryParameter = Error(
        DiagnosticIds.UnsupportedQueryParameter,
        "Unsupported query method parameter",
        "Parameter '{1}' of '{0}' cannot be bound: {2}");

    public static readonly DiagnosticDescriptor PositionalPlaceholder = Error(
        DiagnosticIds.PositionalPlaceholder,
        "Positional placeholder in query SQL",
        "The SQL of '{0}' uses '{1}', a positional placeholder; write '@name' with a method parameter of that name (DbCore numbers the placeholders itself, and '{1}' would bind whichever parameter comes that far in its numbering)");

    public static readonly DiagnosticDescriptor RowsAffectedOfQuery = Warning(
        DiagnosticIds.RowsAffectedOfQuery,
        "Task<int> of a query that returns rows",
        "'{0}' returns Task<int>, which is the number of rows affected, but its SQL returns rows (rows affected of a SELECT is -1); to read a number use Task<long> or Task<int?>, to read rows use a row type");

    public static readonly DiagnosticDescriptor NotPartial = Error(
        DiagnosticIds.NotPartial,
        "Settings class must be partial",
        "'{0}' must be declared partial so that DbCore can generate its members; add the 'partial' modifier");

    public static readonly DiagnosticDescriptor MissingConnectionString = Error(
        DiagnosticIds.MissingConnectionString,
        "Settings class has no [ConnectionString] property",
        "'{0}' has no property marked [ConnectionString]; add a settable string property with [ConnectionString]");

    public static readonly DiagnosticDescriptor MultipleConnectionStrings = Error(
        DiagnosticIds.MultipleConnectionStrings,
        "Settings class has more than one [ConnectionString] property",
        "'{0}' marks both '{1}' and '{2}' with [ConnectionString]; keep [ConnectionString] on exactly one property");

    public static readonly DiagnosticDescriptor InvalidConnectionStringProperty = Error(
        DiagnosticIds.InvalidConnectionStringProperty,
        "[ConnectionString] must be on a settable string property",
        "'{0}' is {1}; [ConnectionString] needs a non-static string property with a public setter");

    public static readonly DiagnosticDescriptor InvalidPoolProfile = Error(
        DiagnosticIds.InvalidPoolProfile,
        "Invalid pool profile value",
        "Pool profile '{0}': {1}");

    public static readonly DiagnosticDescriptor DuplicatePoolProfile = Error(
        DiagnosticIds.DuplicatePoolProfile,
        "Two pool profiles for one environment",
        "Pool profile '{0}' is declared more than once (environment names are compared case-insensitively); remove or rename one");

    public static readonly DiagnosticDescriptor InvalidConnectionStringLiteral = Error(
        DiagnosticIds.InvalidConnectionStringLiteral,
        "Invalid connection string literal",
        "The default connection string is invalid: {0}");

    public static readonly DiagnosticDescriptor ProviderMismatch = Error(
        DiagnosticIds.ProviderMismatch,
        "Connection string literal does not match the provider",
        "'{0}' is pinned to {1}, but its default connection string is a {2} connection string; change the literal or the Provider");

    public static readonly DiagnosticDescriptor PasswordInSource = new(
        DiagnosticIds.PasswordInSource,
        "Password in source code",
        "The default connection string of '{0}' contains a password; move the password to configuration, user secrets or an environment variable",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink(DiagnosticIds.PasswordInSource));

    public static readonly DiagnosticDescriptor NameCollision = Error(
        DiagnosticIds.NameCollision,
        "Generated name collides",
        "'{0}' generates '{1}', which {2}; give it a unique [DatabaseSettings(Name = \"...\")] or rename the other member");

    /// <summary>
    /// DBC0010 between two settings classes: the same ID, reported at compilation end (the IDE shows it on build or with
    /// full-solution analysis; the single-class cases of <see cref="NameCollision"/> are reported as you type).
    /// </summary>
    public static readonly DiagnosticDescriptor NameCollisionAcrossClasses = new(
        DiagnosticIds.NameCollision,
        "Generated name collides",
        "'{0}' generates '{1}', which {2}; give it a unique [DatabaseSettings(Name = \"...\")] or rename the other member",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink(DiagnosticIds.NameCollision),
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor UnsupportedShape = Error(
        DiagnosticIds.UnsupportedShape,
        "Unsupported settings class shape",
        "'{0}' cannot be a settings class because it is {1}; declare it as a non-generic, non-static, non-abstract class (not a record, not nested in a generic type)");

    /// <summary>DBC0112 and DBC0113 share a message: {0} the method, {1} what is missing or stale.</summary>
    private const string NotInSnapshotMessage = "'{0}' {1}; run VerifyQueriesAsync with QueryVerificationOptions.SnapshotPath against the database and commit the file";

    public static readonly DiagnosticDescriptor QueryNotInSnapshot = new(
        DiagnosticIds.QueryNotInSnapshot,
        "Query method missing from or stale in dbcore.queries.json",
        NotInSnapshotMessage,
        Category,
        DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink(DiagnosticIds.QueryNotInSnapshot));

    public static readonly DiagnosticDescriptor QueryNotInRequiredSnapshot = Error(
        DiagnosticIds.QueryNotInRequiredSnapshot,
        "Query method missing from or stale in a required dbcore.queries.json",
        NotInSnapshotMessage + " (the project sets DbCoreRequireQuerySnapshot)");

    public static readonly DiagnosticDescriptor QueryContradictsSnapshot = Error(
        DiagnosticIds.QueryContradictsSnapshot,
        "Query method contradicts the shape in dbcore.queries.json",
        "'{0}' does not match its SQL as dbcore.queries.json describes it: {1}; {2}");

    /// <summary>DBC0115, once per compilation, at the file.</summary>
    public static readonly DiagnosticDescriptor UnreadableQuerySnapshot = new(
        DiagnosticIds.UnreadableQuerySnapshot,
        "dbcore.queries.json cannot be read",
        "dbcore.queries.json cannot be read ({0}), so no query is checked against it; rewrite it with VerifyQueriesAsync and QueryVerificationOptions.SnapshotPath",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        helpLinkUri: HelpLink(DiagnosticIds.UnreadableQuerySnapshot),
        customTags: WellKnownDiagnosticTags.CompilationEnd);
}
