using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using DbCore.ConnectionStrings;
using DbCore.Generators.Diagnostics;
using DbCore.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DbCore.Generators.Parsing;

/// <summary>A problem found while reading a settings class; reported by the analyzer, ignored by the generator.</summary>
internal readonly struct SettingsProblem
{
    public SettingsProblem(DiagnosticDescriptor descriptor, Location? location, params object?[] arguments)
    {
        Descriptor = descriptor;
        Location = location;
        Arguments = arguments;
    }

    public DiagnosticDescriptor Descriptor { get; }

    public Location? Location { get; }

    public object?[] Arguments { get; }

    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, Arguments);
}

/// <summary>The result of reading one settings class.</summary>
internal sealed class SettingsParseResult
{
    public SettingsParseResult(SettingsSpec? spec, List<SettingsProblem> problems)
    {
        Spec = spec;
        Problems = problems;
    }

    /// <summary>The spec, or null when an error makes the class unusable.</summary>
    public SettingsSpec? Spec { get; }

    public List<SettingsProblem> Problems { get; }
}

/// <summary>Reads a <c>[DatabaseSettings]</c> class symbol into a <see cref="SettingsSpec"/> plus the problems found.</summary>
internal static class SettingsParser
{
    /// <summary>The generator's transform: a spec, or null when the class has an error (the analyzer reports it).</summary>
    public static SettingsSpec? ParseForGenerator(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.Length == 0)
        {
            return null;
        }

        return Parse(type, context.Attributes[0], cancellationToken).Spec;
    }

    public static SettingsParseResult Parse(INamedTypeSymbol type, AttributeData settingsAttribute, CancellationToken cancellationToken)
    {
        var problems = new List<SettingsProblem>();
        Location? typeLocation = type.Locations.FirstOrDefault();
        bool hasError = false;

        void Report(SettingsProblem problem)
        {
            problems.Add(problem);
            hasError |= problem.Descriptor.DefaultSeverity == DiagnosticSeverity.Error;
        }

        // DBC0011: shapes the generator cannot extend.
        string? shapeProblem = type.IsStatic ? "static"
            : type.IsAbstract ? "abstract"
            : type.TypeKind != TypeKind.Class ? "not a class"
            : type.IsRecord ? "a record"
            : type.Arity > 0 ? "generic"
            : IsNestedInGeneric(type) ? "nested in a generic type"
            : IsPrivateOrProtected(type) ? "private or protected (the generated accessor sits beside it in the namespace and must be able to name it)"
            : null;
        if (shapeProblem is not null)
        {
            Report(new SettingsProblem(DiagnosticDescriptors.UnsupportedShape, typeLocation, type.Name, shapeProblem));
        }

        // DBC0001: the class and every containing type must be partial.
        foreach (INamedTypeSymbol declared in SelfAndContainingTypes(type))
        {
            if (!IsPartial(declared, cancellationToken))
            {
                Report(new SettingsProblem(DiagnosticDescriptors.NotPartial, declared.Locations.FirstOrDefault(), declared.Name));
            }
        }

        // [DatabaseSettings] arguments.
        string? name = null;
        string? section = null;
        ProviderKind provider = ProviderKind.Auto;
        foreach (KeyValuePair<string, TypedConstant> argument in settingsAttribute.NamedArguments)
        {
            switch (argument.Key)
            {
                case "Name":
                    name = argument.Value.Value as string;
                    break;
                case "SectionName":
                    section = argument.Value.Value as string;
                    break;
                case "Provider" when argument.Value.Value is int value:
                    provider = (ProviderKind)value;
                    break;
            }
        }

        string baseName = string.IsNullOrWhiteSpace(name) ? DefaultBaseName(type.Name) : name!.Trim();
        if (!SyntaxFacts.IsValidIdentifier(baseName) || SyntaxFacts.GetKeywordKind(baseName) != SyntaxKind.None)
        {
            Report(new SettingsProblem(DiagnosticDescriptors.NameCollision, AttributeLocation(settingsAttribute) ?? typeLocation, type.Name, baseName, "is not a valid C# identifier"));
        }

        string sectionName = string.IsNullOrWhiteSpace(section) ? baseName : section!.Trim();

        // [ConnectionString] property: DBC0002, DBC0003, DBC0004.
        IPropertySymbol? connectionString = null;
        AttributeData? connectionStringAttribute = null;
        var bindable = new List<BindablePropertySpec>();
        bool hasUserToString = false;
        foreach (ISymbol member in type.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (IsDbCoreGenerated(member))
            {
                // The analyzer sees the generator's output; the generator does not. Both must read the same class.
                continue;
            }

            if (member is IMethodSymbol { Name: "ToString", Parameters.Length: 0, IsStatic: false, IsImplicitlyDeclared: false })
            {
                hasUserToString = true;
                continue;
            }

            if (member is not IPropertySymbol property)
            {
                continue;
            }

            AttributeData? marker = property.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == KnownNames.ConnectionStringAttribute);
            if (marker is null)
            {
                if (ToBindable(property) is { } bindableProperty)
                {
                    bindable.Add(bindableProperty);
                }

                continue;
            }

            if (connectionString is not null)
            {
                Report(new SettingsProblem(DiagnosticDescriptors.MultipleConnectionStrings, AttributeLocation(marker) ?? property.Locations.FirstOrDefault(), type.Name, connectionString.Name, property.Name));
                continue;
            }

            connectionString = property;
            connectionStringAttribute = marker;
            string? shape = property.Type.SpecialType != SpecialType.System_String ? $"of type '{property.Type.ToDisplayString()}'"
                : property.IsStatic ? "static"
                : property.SetMethod is null || property.SetMethod.IsInitOnly ? "not settable"
                : property.SetMethod.DeclaredAccessibility != Accessibility.Public ? "settable only from inside the class"
                : property.IsIndexer ? "an indexer"
                : null;
            if (shape is not null)
            {
                Report(new SettingsProblem(DiagnosticDescriptors.InvalidConnectionStringProperty, property.Locations.FirstOrDefault(), property.Name, shape));
            }
        }

        if (connectionString is null)
        {
            Report(new SettingsProblem(DiagnosticDescriptors.MissingConnectionString, typeLocation, type.Name));
        }

        string? environmentVariable = null;
        if (connectionStringAttribute is not null)
        {
            foreach (KeyValuePair<string, TypedConstant> argument in connectionStringAttribute.NamedArguments)
            {
                if (argument.Key == "EnvironmentVariable" && argument.Value.Value is string variable && variable.Trim().Length > 0)
                {
                    environmentVariable = variable.Trim();
                }
            }
        }

        // Pool profiles: DBC0005, DBC0006.
        var profiles = new List<PoolProfileSpec>();
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() != KnownNames.PoolProfileAttribute)
            {
                continue;
            }

            PoolProfileSpec profile = ReadProfile(attribute);
            foreach ((string argument, string message) in ValidateProfile(profile))
            {
                Report(new SettingsProblem(DiagnosticDescriptors.InvalidPoolProfile, NamedArgumentLocation(attribute, argument) ?? AttributeLocation(attribute), profile.Environment, message));
            }

            if (profiles.Any(p => string.Equals(p.Environment, profile.Environment, StringComparison.OrdinalIgnoreCase)))
            {
                Report(new SettingsProblem(DiagnosticDescriptors.DuplicatePoolProfile, AttributeLocation(attribute), profile.Environment));
            }
            else
            {
                profiles.Add(profile);
            }
        }

        // The literal default: DBC0007, DBC0008, DBC0009. An empty literal is no default: the connection string must then
        // be configured, and a missing one fails at startup naming the keys tried.
        if (connectionString is not null && LiteralInitializer(connectionString, cancellationToken) is { } literal && !string.IsNullOrWhiteSpace(literal.Value))
        {
            ParsedConnectionString parsed = ConnectionStringParser.Parse(literal.Value);
            Location location = literal.Location;
            if (parsed.Error is not null)
            {
                Report(new SettingsProblem(DiagnosticDescriptors.InvalidConnectionStringLiteral, location, parsed.Error));
            }
            else
            {
                ConnectionStringKind expected = provider == ProviderKind.PostgreSql ? ConnectionStringKind.PostgreSql
                    : provider == ProviderKind.Sqlite ? ConnectionStringKind.Sqlite
                    : ConnectionStringKind.Unknown;
                if (expected != ConnectionStringKind.Unknown && parsed.Kind != ConnectionStringKind.Unknown && parsed.Kind != expected)
                {
                    Report(new SettingsProblem(DiagnosticDescriptors.ProviderMismatch, location, type.Name, provider.ToString(), parsed.Kind == ConnectionStringKind.PostgreSql ? "PostgreSQL" : "SQLite"));
                }

                if (parsed.HasPassword)
                {
                    Report(new SettingsProblem(DiagnosticDescriptors.PasswordInSource, location, type.Name));
                }
            }
        }

        // Generated members that would collide with the user's (DBC0010 for the settings class itself).
        foreach (string generated in KnownNames.GeneratedSettingsMembers)
        {
            ISymbol? existing = type.GetMembers(generated).FirstOrDefault(m => !m.IsImplicitlyDeclared && !IsDbCoreGenerated(m));
            if (existing is not null)
            {
                Report(new SettingsProblem(DiagnosticDescriptors.NameCollision, existing.Locations.FirstOrDefault(), type.Name, generated, $"is already a member of '{type.Name}'"));
            }
        }

        if (baseName == type.Name || baseName + "Session" == type.Name)
        {
            Report(new SettingsProblem(DiagnosticDescriptors.NameCollision, AttributeLocation(settingsAttribute) ?? typeLocation, type.Name, baseName == type.Name ? baseName : baseName + "Session", "is the name of the settings class itself"));
        }

        // Generated types that would collide with a user type of the same namespace (DBC0010 for one class; two settings
        // classes that generate the same names are compared by the analyzer at compilation end).
        foreach (string generatedType in GeneratedTypeNames(baseName))
        {
            if (generatedType == type.Name)
            {
                continue; // reported above
            }

            foreach (INamedTypeSymbol existing in type.ContainingNamespace.GetTypeMembers(generatedType, 0))
            {
                if (TypeCollision(existing, cancellationToken) is { } why)
                {
                    Report(new SettingsProblem(DiagnosticDescriptors.NameCollision, AttributeLocation(settingsAttribute) ?? typeLocation, type.Name, generatedType, why));
                }
            }
        }

        if (hasError || connectionString is null)
        {
            return new SettingsParseResult(null, problems);
        }

        var containing = new List<ContainingTypeSpec>();
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            containing.Insert(0, new ContainingTypeSpec(TypeKeyword(outer), outer.Name));
        }

        var spec = new SettingsSpec(
            Namespace: type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : string.Empty,
            ContainingTypes: containing.ToEquatableArray(),
            ClassName: type.Name,
            Accessibility: EffectiveAccessibility(type) == Accessibility.Public ? "public" : "internal",
            BaseName: baseName,
            SectionName: sectionName,
            Provider: provider,
            ConnectionStringProperty: connectionString.Name,
            EnvironmentVariable: environmentVariable,
            Profiles: profiles.ToEquatableArray(),
            Properties: bindable.ToEquatableArray(),
            HasUserToString: hasUserToString);
        return new SettingsParseResult(spec, problems);
    }

    /// <summary>The top-level types generated for base name <paramref name="baseName"/>, in the settings class's namespace.</summary>
    public static string[] GeneratedTypeNames(string baseName)
        => new[] { baseName, baseName + "Session", baseName + "ServiceCollectionExtensions" };

    /// <summary>
    /// True for a member or type that only DbCore's generator declares. The generator's input never contains them, the
    /// analyzer's compilation does (generated trees are added before analyzers run); skipping them keeps both views equal.
    /// </summary>
    internal static bool IsDbCoreGenerated(ISymbol symbol)
    {
        ImmutableArray<SyntaxReference> references = symbol.DeclaringSyntaxReferences;
        if (references.IsEmpty)
        {
            return false;
        }

        foreach (SyntaxReference reference in references)
        {
            if (!IsDbCoreGenerated(reference.SyntaxTree))
            {
                return false;
            }
        }

        return true;
    }

    internal static bool IsDbCoreGenerated(SyntaxTree tree)
        => tree.FilePath.EndsWith(GeneratedFileSuffix, StringComparison.OrdinalIgnoreCase);

    /// <summary>How every hint name of the generator ends (see <c>SettingsEmitter.Emit</c>).</summary>
    internal const string GeneratedFileSuffix = ".DbCore.g.cs";

    /// <summary>
    /// Why a user type named like a generated type breaks the build, or null when it merges cleanly: a user
    /// <c>partial class</c> without a base class of its own extends the generated type, which is allowed.
    /// </summary>
    private static string? TypeCollision(INamedTypeSymbol existing, CancellationToken cancellationToken)
    {
        bool hasUserDeclaration = false;
        foreach (SyntaxReference reference in existing.DeclaringSyntaxReferences)
        {
            if (IsDbCoreGenerated(reference.SyntaxTree))
            {
                continue;
            }

            hasUserDeclaration = true;
            if (reference.GetSyntax(cancellationToken) is not ClassDeclarationSyntax declaration || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return $"is already declared in namespace '{NamespaceName(existing)}' as a non-partial {TypeDescription(existing)}";
            }
        }

        if (!hasUserDeclaration)
        {
            return null; // only the generator declares it
        }

        if (existing.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == KnownNames.DatabaseSettingsAttribute))
        {
            return $"is already the name of the settings class '{existing.Name}'";
        }

        if (existing.BaseType is { SpecialType: not SpecialType.System_Object } baseType
            && baseType.ContainingNamespace?.ToDisplayString() != "DbCore")
        {
            return $"is already a partial class deriving from '{baseType.ToDisplayString()}'";
        }

        return null;
    }

    private static string NamespaceName(INamedTypeSymbol type)
        => type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "<global namespace>";

    private static string TypeDescription(INamedTypeSymbol type)
        => type.IsRecord ? "record"
            : type.TypeKind switch
            {
                TypeKind.Struct => "struct",
                TypeKind.Interface => "interface",
                TypeKind.Enum => "enum",
                TypeKind.Delegate => "delegate",
                _ => "class",
            };

    /// <summary>The base name of the generated types of a settings class: <c>Name = "..."</c>, else <see cref="DefaultBaseName"/>.</summary>
    public static string BaseNameOf(INamedTypeSymbol type, AttributeData settingsAttribute)
    {
        foreach (KeyValuePair<string, TypedConstant> argument in settingsAttribute.NamedArguments)
        {
            if (argument.Key == "Name" && argument.Value.Value is string name && !string.IsNullOrWhiteSpace(name))
            {
                return name.Trim();
            }
        }

        return DefaultBaseName(type.Name);
    }

    /// <summary>The class name without a trailing "Settings" or "Options" (the whole name when nothing is left).</summary>
    public static string DefaultBaseName(string className)
    {
        foreach (string suffix in new[] { "Settings", "Options" })
        {
            if (className.Length > suffix.Length && className.EndsWith(suffix, StringComparison.Ordinal))
            {
                return className.Substring(0, className.Length - suffix.Length);
            }
        }

        return className;
    }

    private static PoolProfileSpec ReadProfile(AttributeData attribute)
    {
        string environment = attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is string env ? env : string.Empty;
        int size = 10, overflow = 20, acquire = 30, recycle = 3600, idle = 300;
        bool warmUp = false;
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            switch (argument.Key, argument.Value.Value)
            {
                case ("Size", int v): size = v; break;
                case ("MaxOverflow", int v): overflow = v; break;
                case ("AcquireTimeoutSeconds", int v): acquire = v; break;
                case ("RecycleSeconds", int v): recycle = v; break;
                case ("IdleSeconds", int v): idle = v; break;
                case ("WarmUp", bool v): warmUp = v; break;
            }
        }

        return new PoolProfileSpec(environment, size, overflow, acquire, recycle, idle, warmUp);
    }

    /// <summary>The rules of DESIGN §3 for a profile; each failure names the argument and the fix.</summary>
    public static IEnumerable<(string Argument, string Message)> ValidateProfile(PoolProfileSpec profile)
    {
        if (string.IsNullOrWhiteSpace(profile.Environment))
        {
            yield return ("environment", "the environment name is empty; name the environment, for example \"Production\"");
        }

        if (profile.Size < 0)
        {
            yield return ("Size", $"Size is {profile.Size}; it must be at least 0");
        }

        if (profile.MaxOverflow < 0)
        {
            yield return ("MaxOverflow", $"MaxOverflow is {profile.MaxOverflow}; it must be at least 0");
        }

        if (profile.Size >= 0 && profile.MaxOverflow >= 0 && profile.Size + profile.MaxOverflow < 1)
        {
            yield return ("MaxOverflow", "Size + MaxOverflow is 0; allow at least one connection");
        }

        if (profile.AcquireTimeoutSeconds < 1 || profile.AcquireTimeoutSeconds > 1024)
        {
            yield return ("AcquireTimeoutSeconds", $"AcquireTimeoutSeconds is {profile.AcquireTimeoutSeconds}; it must be between 1 and 1024");
        }

        if (profile.RecycleSeconds < 0)
        {
            yield return ("RecycleSeconds", $"RecycleSeconds is {profile.RecycleSeconds}; it must be at least 0 (0 = never)");
        }

        if (profile.IdleSeconds < 10)
        {
            yield return ("IdleSeconds", $"IdleSeconds is {profile.IdleSeconds}; it must be at least 10 (Npgsql prunes idle connections every 10 seconds)");
        }
    }

    private static BindablePropertySpec? ToBindable(IPropertySymbol property)
    {
        if (property.IsStatic || property.IsIndexer || property.DeclaredAccessibility != Accessibility.Public
            || property.SetMethod is null || property.SetMethod.IsInitOnly || property.SetMethod.DeclaredAccessibility != Accessibility.Public
            || Array.IndexOf(KnownNames.GeneratedSettingsMembers, property.Name) >= 0)
        {
            return null;
        }

        ITypeSymbol type = property.Type;
        bool nullable = false;
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } wrapper)
        {
            type = wrapper.TypeArguments[0];
            nullable = true;
        }

        PropertyKind? kind = type.SpecialType switch
        {
            SpecialType.System_String => PropertyKind.String,
            SpecialType.System_Boolean => PropertyKind.Boolean,
            SpecialType.System_Int32 => PropertyKind.Int32,
            SpecialType.System_Int64 => PropertyKind.Int64,
            SpecialType.System_Double => PropertyKind.Double,
            _ => type.TypeKind == TypeKind.Enum ? PropertyKind.Enum
                : type.ToDisplayString() == "System.TimeSpan" ? PropertyKind.TimeSpan
                : null,
        };
        return kind is null ? null : new BindablePropertySpec(property.Name, kind.Value, type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), nullable);
    }

    private static (string Value, Location Location)? LiteralInitializer(IPropertySymbol property, CancellationToken cancellationToken)
    {
        foreach (SyntaxReference reference in property.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is PropertyDeclarationSyntax { Initializer.Value: LiteralExpressionSyntax literal }
                && literal.IsKind(SyntaxKind.StringLiteralExpression))
            {
                return (literal.Token.ValueText, literal.GetLocation());
            }
        }

        return null;
    }

    private static bool IsPartial(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
                && declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<INamedTypeSymbol> SelfAndContainingTypes(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            yield return current;
        }
    }

    private static bool IsPrivateOrProtected(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            if (current.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsNestedInGeneric(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            if (outer.IsGenericType)
            {
                return true;
            }
        }

        return false;
    }

    private static Accessibility EffectiveAccessibility(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            if (current.DeclaredAccessibility != Accessibility.Public)
            {
                return Accessibility.Internal;
            }
        }

        return Accessibility.Public;
    }

    private static string TypeKeyword(INamedTypeSymbol type)
        => type.IsRecord ? (type.TypeKind == TypeKind.Struct ? "record struct" : "record")
            : type.TypeKind == TypeKind.Struct ? "struct"
            : type.TypeKind == TypeKind.Interface ? "interface"
            : "class";

    internal static Location? AttributeLocation(AttributeData attribute)
        => attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation();

    private static Location? NamedArgumentLocation(AttributeData attribute, string argument)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax() is not AttributeSyntax syntax || syntax.ArgumentList is null)
        {
            return null;
        }

        foreach (AttributeArgumentSyntax node in syntax.ArgumentList.Arguments)
        {
            if (node.NameEquals?.Name.Identifier.ValueText == argument)
            {
                return node.GetLocation();
            }
        }

        return argument == "environment" && syntax.ArgumentList.Arguments.Count > 0 ? syntax.ArgumentList.Arguments[0].GetLocation() : null;
    }
}
