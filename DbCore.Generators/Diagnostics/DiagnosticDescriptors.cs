using Microsoft.CodeAnalysis;

namespace DbCore.Generators.Diagnostics;

/// <summary>Every DbCore diagnostic, in one place. Messages say how to fix the problem.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "DbCore";

    private static string HelpLink(string id) => $"https://github.com/dbcore/dbcore/blob/main/docs/diagnostics/{id}.md";

    private static DiagnosticDescriptor Error(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

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

    public static readonly DiagnosticDescriptor UnsupportedShape = Error(
        DiagnosticIds.UnsupportedShape,
        "Unsupported settings class shape",
        "'{0}' cannot be a settings class because it is {1}; use a non-generic, non-static, non-abstract class");
}
