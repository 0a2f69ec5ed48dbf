using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using DbCore.Generators.Diagnostics;
using DbCore.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace DbCore.Generators.Parsing;

/// <summary>The result of reading one <c>[Query]</c> method.</summary>
internal sealed class QueryParseResult
{
    public QueryParseResult(QueryMethodSpec? spec, QueryStubSpec? stub, List<SettingsProblem> problems)
    {
        Spec = spec;
        Stub = stub;
        Problems = problems;
    }

    /// <summary>The spec, or null when an error makes the method ungeneratable.</summary>
    public QueryMethodSpec? Spec { get; }

    /// <summary>When there is no spec but the method is a partial definition: what a throwing stub needs (no cascade of CS8795).</summary>
    public QueryStubSpec? Stub { get; }

    public List<SettingsProblem> Problems { get; }
}

/// <summary>
/// Reads a <c>[Query]</c> method symbol into a <see cref="QueryMethodSpec"/> plus the problems found (DBC0101-DBC0110).
/// Used by the generator (spec) and the analyzer (problems), so both always agree.
/// </summary>
internal static class QueryParser
{
    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>The generator's transform: the method, or a stub when it is invalid (the analyzer reports why).</summary>
    public static QueryOutput? ParseForGenerator(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method || context.Attributes.Length == 0)
        {
            return null;
        }

        QueryParseResult result = Parse(method, context.Attributes[0], cancellationToken);
        return result.Spec is not null || result.Stub is not null ? new QueryOutput(result.Spec, result.Stub) : null;
    }

    public static QueryParseResult Parse(IMethodSymbol method, AttributeData attribute, CancellationToken cancellationToken)
    {
        DisplayNames? outer = t_names;
        t_names = DisplayNames.For(method, s_formats);
        try
        {
            return ParseCore(method, attribute, cancellationToken);
        }
        finally
        {
            t_names = outer;
        }
    }

    /// <summary>The display names of the compilation being parsed (see <see cref="DisplayNames"/>); set for the length of one <see cref="Parse"/>.</summary>
    [ThreadStatic]
    private static DisplayNames? t_names;

    private static readonly SymbolDisplayFormat[] s_formats = [s_typeFormat, SymbolDisplayFormat.FullyQualifiedFormat, SymbolDisplayFormat.CSharpErrorMessageFormat];

    /// <summary>Fully qualified, with <c>?</c> on nullable reference types (the spec's and the stub's type names).</summary>
    private static string Qualified(ITypeSymbol type) => t_names?.Type(type, 0) ?? type.ToDisplayString(s_typeFormat);

    private static string FullyQualified(ITypeSymbol type) => t_names?.Type(type, 1) ?? type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

    /// <summary>As C# writes it in messages (<c>ToDisplayString()</c>).</summary>
    private static string Display(ITypeSymbol type) => t_names?.Type(type, 2) ?? type.ToDisplayString();

    private static QueryParseResult ParseCore(IMethodSymbol method, AttributeData attribute, CancellationToken cancellationToken)
    {
        var problems = new List<SettingsProblem>();
        bool hasError = false;
        string display = method.ContainingType.Name + "." + method.Name;
        Location? nameLocation = method.Locations.FirstOrDefault();
        var syntax = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as MethodDeclarationSyntax;

        void Report(DiagnosticDescriptor descriptor, Location? location, params object?[] arguments)
        {
            problems.Add(new SettingsProblem(descriptor, location ?? nameLocation, arguments));
            hasError |= descriptor.DefaultSeverity == DiagnosticSeverity.Error;
        }

        // DBC0108: a partial definition without a body (the implementation is ours).
        bool isPartialDefinition = method.PartialImplementationPart is not null || (syntax is not null
            && syntax.Modifiers.Any(SyntaxKind.PartialKeyword) && syntax.Body is null && syntax.ExpressionBody is null);
        if (!isPartialDefinition)
        {
            Report(DiagnosticDescriptors.QueryMethodNotPartial, nameLocation, display);
            return new QueryParseResult(null, null, problems);
        }

        // Computed once: the stub and the spec repeat the signature as declared.
        string returnTypeName = Qualified(method.ReturnType);
        string modifiers = DeclaredModifiers(method, syntax);
        string[] parameterTypes = new string[method.Parameters.Length];
        for (int i = 0; i < parameterTypes.Length; i++)
        {
            parameterTypes[i] = Qualified(method.Parameters[i].Type);
        }

        QueryStubSpec? stub = StubFor(method, returnTypeName, modifiers, parameterTypes);

        // DBC0109 (shape part): only instance, non-generic methods of a top-level class can be in a session.
        if (method.ContainingType.ContainingType is not null || method.ContainingType.TypeKind != TypeKind.Class)
        {
            Report(DiagnosticDescriptors.QueryOutsideSession, nameLocation, display, method.ContainingType.ToDisplayString());
        }
        else if (method.IsStatic || method.IsGenericMethod)
        {
            Report(DiagnosticDescriptors.QueryMethodNotInstance, nameLocation, display, method.IsStatic ? "static" : "generic");
            if (method.IsGenericMethod)
            {
                // Its row and parameter types are type parameters: nothing more to check (no DBC0104 for 'T' on top).
                return new QueryParseResult(null, stub, problems);
            }
        }

        // DBC0103: the SQL is one literal or constant, never built from pieces.
        AttributeArgumentSyntax? sqlArgument = (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax)?.ArgumentList?.Arguments.FirstOrDefault();
        string? sql = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
        Location? sqlLocation = sqlArgument?.Expression.GetLocation() ?? SettingsParser.AttributeLocation(attribute);
        string? notConstant = NotConstant(sqlArgument?.Expression)
            ?? (sql is null ? "a null or non-string value" : string.IsNullOrWhiteSpace(sql) ? "empty" : null);
        if (notConstant is not null)
        {
            Report(DiagnosticDescriptors.SqlNotConstant, sqlLocation, display, notConstant);
            return new QueryParseResult(null, stub, problems);
        }

        SqlText text = SqlText.Parse(sql!);

        // Return shape and row type (DBC0104).
        Location? returnLocation = syntax?.ReturnType.GetLocation() ?? nameLocation;
        (ResultShape shape, ITypeSymbol? rowType, bool returnsValueTask, string? shapeProblem) = ReadShape(method.ReturnType);
        RowSpec? row = null;
        if (shapeProblem is not null)
        {
            Report(DiagnosticDescriptors.UnsupportedQueryType, returnLocation, display, shapeProblem);
        }
        else if (rowType is not null)
        {
            row = ReadRow(rowType, out string? rowProblem);
            if (row?.Scalar is { } scalar && shape == ResultShape.SingleOrDefault)
            {
                // Task<long?> / Task<string?>: no row and a NULL both read as null.
                row = row with { Scalar = scalar with { IsNullable = true } };
            }

            if (rowProblem is not null)
            {
                Report(DiagnosticDescriptors.UnsupportedQueryType, returnLocation, display, rowProblem);
            }
        }

        // Parameters (DBC0101, DBC0102, DBC0110).
        var signature = new List<SignatureParameterSpec>();
        var bindable = new List<(IParameterSymbol Symbol, ValueSpec Value)>();
        string? cancellationName = null;
        for (int index = 0; index < method.Parameters.Length; index++)
        {
            IParameterSymbol parameter = method.Parameters[index];
            bool isToken = IsCancellationToken(parameter.Type);
            bool enumeratorCancellation = parameter.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.Runtime.CompilerServices.EnumeratorCancellationAttribute");
            signature.Add(new SignatureParameterSpec(parameterTypes[index], Identifier.Escape(parameter.Name), isToken, enumeratorCancellation));
            Location? parameterLocation = parameter.Locations.FirstOrDefault();
            if (parameter.RefKind != RefKind.None || parameter.IsParams)
            {
                Report(DiagnosticDescriptors.UnsupportedQueryParameter, parameterLocation, display, parameter.Name, "ref, out, in and params parameters cannot be bound; pass the value");
                continue;
            }

            if (parameter.Name.StartsWith("__", StringComparison.Ordinal))
            {
                // The generated body's own locals are __sql, __command, __reader, ...: a parameter of that form could collide.
                Report(DiagnosticDescriptors.UnsupportedQueryParameter, parameterLocation, display, parameter.Name, "names starting with '__' are reserved for the generated code; rename the parameter (and its placeholder)");
                continue;
            }

            if (isToken)
            {
                if (cancellationName is not null)
                {
                    Report(DiagnosticDescriptors.UnsupportedQueryParameter, parameterLocation, display, parameter.Name, "a query method takes at most one CancellationToken");
                }

                cancellationName = Identifier.Escape(parameter.Name);
                continue;
            }

            ValueSpec? value = parameter.Type.SpecialType == SpecialType.System_Object
                ? new ValueSpec("object", null, null, false, true, false)
                : ReadValue(parameter.Type, allowCollections: true);
            if (value is { Element: { TypeName: "char", IsNullable: false } } && parameter.Type is IArrayTypeSymbol)
            {
                // Npgsql sends a char[] as one text value, not as an array: '= ANY(@letters)' fails (42809) on PostgreSQL.
                Report(DiagnosticDescriptors.UnsupportedQueryParameter, parameterLocation, display, parameter.Name,
                    $"'{parameter.Type.ToDisplayString()}' is sent by Npgsql as one text value, not as an array; pass a string[] (or a string)");
                continue;
            }

            if (value is null)
            {
                Report(DiagnosticDescriptors.UnsupportedQueryParameter, parameterLocation, display, parameter.Name,
                    $"'{parameter.Type.ToDisplayString()}' is not a supported parameter type (primitives, string, decimal, Guid, date and time types, byte[], enums, arrays and lists of those, object)");
                continue;
            }

            bindable.Add((parameter, value));
        }

        var parameters = new List<QueryParameterSpec>();
        var placeholderNames = new List<string>();
        foreach (SqlPlaceholder placeholder in text.Placeholders)
        {
            if (placeholderNames.Exists(n => n == placeholder.Name))
            {
                continue;
            }

            placeholderNames.Add(placeholder.Name);
            // The parameter of exactly that name, else of that name in another case, else the first that matches ignoring
            // underscores: (long ab, long a_b) binds @a_b to a_b, and ab is reported unused (DBC0102) instead of silently
            // taking its place.
            (IParameterSymbol Symbol, ValueSpec Value) match = bindable.FirstOrDefault(p => string.Equals(placeholder.Name, p.Symbol.Name, StringComparison.Ordinal));
            if (match.Symbol is null)
            {
                match = bindable.FirstOrDefault(p => string.Equals(placeholder.Name, p.Symbol.Name, StringComparison.OrdinalIgnoreCase));
            }

            if (match.Symbol is null)
            {
                match = bindable.FirstOrDefault(p => Matches(placeholder.Name, p.Symbol.Name));
            }

            if (match.Symbol is null)
            {
                // A parameter of that name that cannot be bound has its DBC0110 already, but for the token, which is passed
                // to the provider and never bound: the placeholder would reach the database without a value.
                IParameterSymbol? named = method.Parameters.FirstOrDefault(p => Matches(placeholder.Name, p.Name));
                if (named is null)
                {
                    Report(DiagnosticDescriptors.PlaceholderWithoutParameter, SqlLocation(sqlArgument, placeholder.Start, placeholder.Length) ?? sqlLocation, display, placeholder.Name);
                }
                else if (IsCancellationToken(named.Type))
                {
                    Report(DiagnosticDescriptors.UnsupportedQueryParameter, named.Locations.FirstOrDefault(), display, named.Name,
                        $"a CancellationToken is passed to the provider, not bound, but the SQL uses '@{placeholder.Name}'; rename the placeholder, or pass the value as a parameter of its own");
                }

                continue;
            }

            parameters.Add(new QueryParameterSpec(Identifier.Escape(match.Symbol.Name), placeholder.Name, match.Value));
        }

        foreach (SqlPlaceholder numbered in text.PositionalPlaceholders)
        {
            Report(DiagnosticDescriptors.PositionalPlaceholder, SqlLocation(sqlArgument, numbered.Start, numbered.Length) ?? sqlLocation, display, numbered.Name);
        }

        foreach ((IParameterSymbol symbol, ValueSpec _) in bindable)
        {
            string escaped = Identifier.Escape(symbol.Name);
            if (!parameters.Exists(p => p.Name == escaped))
            {
                Report(DiagnosticDescriptors.UnusedQueryParameter, symbol.Locations.FirstOrDefault(), display, symbol.Name);
            }
        }

        // DBC0111: Task<int> is rows affected; a SELECT answers -1 there, which is almost never what was meant.
        if (shape == ResultShape.RowsAffected && text.FirstKeyword is "SELECT" or "VALUES" or "TABLE" or "SHOW")
        {
            Report(DiagnosticDescriptors.RowsAffectedOfQuery, returnLocation, display);
        }

        // The select list, where the text alone tells it (DBC0105, DBC0106, DBC0107).
        if (row is not null && shape is not ResultShape.None and not ResultShape.RowsAffected)
        {
            if (text.Star() is { } star)
            {
                Report(DiagnosticDescriptors.SelectStar, SqlLocation(sqlArgument, star.Start, star.Length) ?? sqlLocation, display);
            }
            else if (row.Scalar is null && text.ResultColumns() is { } columns)
            {
                Location? listLocation = null; // located only when reported: the generator runs this for every method
                foreach (MemberSpec member in row.Members)
                {
                    if (!member.IsOptional && !columns.Exists(c => Matches(c.Name, member.Name)))
                    {
                        listLocation ??= text.ResultListSpan() is { } list ? SqlLocation(sqlArgument, list.Start, list.Length) ?? sqlLocation : sqlLocation;
                        Report(DiagnosticDescriptors.RequiredMemberNotSelected, listLocation, display, member.Name, RowDisplayName(rowType!));
                    }
                }

                foreach (SqlColumn column in columns)
                {
                    if (!row.Members.Any(m => Matches(column.Name, m.Name)))
                    {
                        Report(DiagnosticDescriptors.ColumnWithoutMember, SqlLocation(sqlArgument, column.Span.Start, column.Span.Length) ?? sqlLocation, display, column.Name, RowDisplayName(rowType!));
                    }
                }
            }
        }

        if (hasError)
        {
            return new QueryParseResult(null, stub, problems);
        }

        // A readable select list gives the ordinals at build time: no column-name matching per call.
        if (row is { Scalar: null } && shape is not ResultShape.None and not ResultShape.RowsAffected && text.Star() is null
            && text.ResultColumns() is { Count: > 0 } readable)
        {
            int[] ordinals = row.Members.Select(m => readable.FindIndex(c => Matches(c.Name, m.Name))).ToArray();
            row = row with { StaticOrdinals = new EquatableArray<int>(ordinals), StaticColumnCount = readable.Count };
        }

        (string positional, List<string> _) = text.ToPositional();
        var spec = new QueryMethodSpec(
            Namespace: NamespaceName(method.ContainingType),
            ClassName: method.ContainingType.Name,
            MethodName: method.Name,
            Accessibility: modifiers,
            ReturnTypeName: returnTypeName,
            ReturnsValueTask: returnsValueTask,
            Shape: shape,
            Row: row,
            Sql: sql!,
            PositionalSql: text.StatementCount == 1 ? positional : sql!,
            Signature: new EquatableArray<SignatureParameterSpec>(signature),
            Parameters: new EquatableArray<QueryParameterSpec>(parameters),
            CancellationTokenName: cancellationName,
            UsesPositional: text.StatementCount == 1);
        return new QueryParseResult(spec, stub, problems);
    }

    /// <summary>Placeholder and C# names match the way the runtime matches columns: case-insensitive, underscores ignored.</summary>
    internal static bool Matches(string a, string b)
    {
        // ASCII names (nearly all) are compared in place, with no allocation (this runs for every column and member of every
        // query); anything else takes Normalize. Same rule either way.
        int aEnd = TrimmedEnd(a);
        int bEnd = TrimmedEnd(b);
        int i = 0;
        int j = 0;
        while (true)
        {
            while (i < aEnd && a[i] == '_')
            {
                i++;
            }

            while (j < bEnd && b[j] == '_')
            {
                j++;
            }

            if (i == aEnd || j == bEnd)
            {
                return i == aEnd && j == bEnd;
            }

            char x = a[i++];
            char y = b[j++];
            if (x > 127 || y > 127)
            {
                return Normalize(a) == Normalize(b);
            }

            if (x != y && ((x | 0x20) != (y | 0x20) || !char.IsLetter(x)))
            {
                return false;
            }
        }
    }

    /// <summary>The length without trailing <c>!</c>, as <c>TrimEnd('!')</c>.</summary>
    private static int TrimmedEnd(string name)
    {
        int end = name.Length;
        while (end > 0 && name[end - 1] == '!')
        {
            end--;
        }

        return end;
    }

    /// <summary>Underscores and a trailing <c>!</c> (the verifier's "not null" override, <c>AS "note!"</c>) are ignored, as at run time.</summary>
    private static string Normalize(string name) => name.TrimEnd('!').Replace("_", string.Empty).ToUpperInvariant();

    private static QueryStubSpec? StubFor(IMethodSymbol method, string returnTypeName, string modifiers, string[] parameterTypes)
    {
        if (method.ContainingType.TypeKind is not (TypeKind.Class or TypeKind.Struct))
        {
            return null;
        }

        var containing = new List<ContainingTypeSpec>();
        for (INamedTypeSymbol? type = method.ContainingType.ContainingType; type is not null; type = type.ContainingType)
        {
            containing.Insert(0, new ContainingTypeSpec(type.TypeKind == TypeKind.Struct ? "struct" : type.IsRecord ? "record" : "class", type.Name, TypeParameterList(type.TypeParameters)));
        }

        INamedTypeSymbol self = method.ContainingType;
        string keyword = self.IsRecord ? (self.TypeKind == TypeKind.Struct ? "record struct" : "record") : self.TypeKind == TypeKind.Struct ? "struct" : "class";
        return new QueryStubSpec(
            NamespaceName(self),
            new EquatableArray<ContainingTypeSpec>(containing),
            keyword,
            self.Name,
            method.Name,
            modifiers,
            returnTypeName,
            new EquatableArray<SignatureParameterSpec>(method.Parameters.Select((p, i) => new SignatureParameterSpec(
                (p.RefKind switch { RefKind.Ref => "ref ", RefKind.Out => "out ", RefKind.In => "in ", _ => p.IsParams ? "params " : string.Empty }) + parameterTypes[i],
                Identifier.Escape(p.Name), false, false)).ToArray()),
            method.ReturnsVoid,
            TypeParameterList(method.TypeParameters),
            new EquatableArray<string>(method.TypeParameters.Select(ConstraintClause).Where(c => c is not null).Select(c => c!).ToArray()),
            TypeParameterList(self.TypeParameters));
    }

    /// <summary>
    /// Type parameters as a partial declaration repeats them (<c>&lt;T&gt;</c>; a type's constraints may be left to the other
    /// part), or empty. A [Query] in a generic type is DBC0109; its stub still has to name the type.
    /// </summary>
    private static string TypeParameterList(System.Collections.Immutable.ImmutableArray<ITypeParameterSymbol> parameters)
        => parameters.IsEmpty ? string.Empty : "<" + string.Join(", ", parameters.Select(t => Identifier.Escape(t.Name))) + ">";

    /// <summary>
    /// A generic method's <c>where</c> clause for <paramref name="parameter"/>, rebuilt from the symbol with fully qualified
    /// types (the stub's file has none of the user's usings); null when it has no constraint.
    /// </summary>
    private static string? ConstraintClause(ITypeParameterSymbol parameter)
    {
        var parts = new List<string>();
        if (parameter.HasReferenceTypeConstraint)
        {
            parts.Add(parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
        }
        else if (parameter.HasUnmanagedTypeConstraint)
        {
            parts.Add("unmanaged");
        }
        else if (parameter.HasValueTypeConstraint)
        {
            parts.Add("struct");
        }
        else if (parameter.HasNotNullConstraint)
        {
            parts.Add("notnull");
        }

        parts.AddRange(parameter.ConstraintTypes.Select(t => Qualified(t)));
        if (parameter.HasConstructorConstraint)
        {
            parts.Add("new()");
        }

        if (parameter.AllowsRefLikeType)
        {
            parts.Add("allows ref struct");
        }

        return parts.Count == 0 ? null : "where " + Identifier.Escape(parameter.Name) + " : " + string.Join(", ", parts);
    }

    private static (ResultShape Shape, ITypeSymbol? Row, bool ValueTask, string? Problem) ReadShape(ITypeSymbol returnType)
    {
        const string Supported = "return Task or ValueTask of T (one row), T? (zero or one), List<T>, IReadOnlyList<T> or T[] (all rows), int (rows affected), or nothing; or IAsyncEnumerable<T>";
        if (returnType is not INamedTypeSymbol named)
        {
            return (ResultShape.None, null, false, $"'{returnType.ToDisplayString()}' is not a supported return type; {Supported}");
        }

        string definition = Display(named.OriginalDefinition);
        switch (definition)
        {
            case "System.Threading.Tasks.Task":
                return (ResultShape.None, null, false, null);
            case "System.Threading.Tasks.ValueTask":
                return (ResultShape.None, null, true, null);
            case "System.Collections.Generic.IAsyncEnumerable<T>":
                return (ResultShape.Stream, named.TypeArguments[0], false, null);
            case "System.Threading.Tasks.Task<TResult>":
            case "System.Threading.Tasks.ValueTask<TResult>":
                break;
            default:
                return (ResultShape.None, null, false, $"'{returnType.ToDisplayString()}' is not a supported return type; {Supported}");
        }

        bool valueTask = definition.StartsWith("System.Threading.Tasks.ValueTask", StringComparison.Ordinal);
        ITypeSymbol result = named.TypeArguments[0];
        if (result.SpecialType == SpecialType.System_Int32 && result.NullableAnnotation != NullableAnnotation.Annotated)
        {
            return (ResultShape.RowsAffected, null, valueTask, null);
        }

        if (result is IArrayTypeSymbol array && array.ElementType.SpecialType != SpecialType.System_Byte)
        {
            return (ResultShape.Array, array.ElementType, valueTask, null);
        }

        if (result is INamedTypeSymbol list && list.IsGenericType
            && Display(list.OriginalDefinition) is "System.Collections.Generic.List<T>" or "System.Collections.Generic.IReadOnlyList<T>")
        {
            return (ResultShape.List, list.TypeArguments[0], valueTask, null);
        }

        if (result.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            return (ResultShape.SingleOrDefault, ((INamedTypeSymbol)result).TypeArguments[0], valueTask, null);
        }

        if (!result.IsValueType && result.NullableAnnotation == NullableAnnotation.Annotated)
        {
            return (ResultShape.SingleOrDefault, result.WithNullableAnnotation(NullableAnnotation.NotAnnotated), valueTask, null);
        }

        return (ResultShape.Single, result, valueTask, null);
    }

    /// <summary>
    /// The row of a non-generic record, class or struct, per type symbol: queries commonly share a row type, and Roslyn runs
    /// every [Query] method's transform again on each new compilation, so the type is read once per compilation, not once per
    /// method. Keyed by the type's definition (the same instance for every use in a compilation), held weakly; valid rows only.
    /// </summary>
    private static readonly ConditionalWeakTable<ITypeSymbol, RowSpec> s_rows = new();

    private static RowSpec? ReadRow(ITypeSymbol type, out string? problem)
    {
        problem = null;
        bool rememberable = type is INamedTypeSymbol { IsGenericType: false, IsTupleType: false };
        if (rememberable && s_rows.TryGetValue(type.OriginalDefinition, out RowSpec? known))
        {
            return known; // only composite rows are remembered, so a hit is never a scalar
        }

        string typeName = FullyQualified(type.WithNullableAnnotation(NullableAnnotation.NotAnnotated));
        if (ReadValue(type, allowCollections: false) is { } scalar)
        {
            return new RowSpec(typeName, scalar, EquatableArray<MemberSpec>.Empty, false);
        }

        // Only a valid row is remembered: a problem's message names the type as this use writes it (Todo?).
        RowSpec? row = ReadComposite(type, typeName, out problem);
        if (rememberable && row is not null)
        {
            s_rows.GetValue(type.OriginalDefinition, _ => row);
        }

        return row;
    }

    /// <summary>A record, class, struct or named tuple (not a scalar): its members.</summary>
    private static RowSpec? ReadComposite(ITypeSymbol type, string typeName, out string? problem)
    {
        problem = null;

        if (type is not INamedTypeSymbol named || type.TypeKind is not (TypeKind.Class or TypeKind.Struct) || named.IsAbstract || named.IsStatic
            || type.SpecialType == SpecialType.System_Object || named.IsGenericType && !named.IsTupleType)
        {
            problem = $"'{type.ToDisplayString()}' is not a supported row type; use a record, a class or struct with a public constructor or settable members, a named tuple, or a scalar";
            return null;
        }

        if (named.IsTupleType)
        {
            var elements = new List<MemberSpec>();
            foreach (IFieldSymbol element in named.TupleElements)
            {
                if (!element.IsExplicitlyNamedTupleElement)
                {
                    problem = $"the tuple '{type.ToDisplayString()}' has unnamed elements; name every element, e.g. (long Id, string Title), so that columns can map to them";
                    return null;
                }

                if (ReadValue(element.Type, allowCollections: true) is not { } value)
                {
                    problem = $"element '{element.Name}' has the unsupported type '{element.Type.ToDisplayString()}'";
                    return null;
                }

                elements.Add(new MemberSpec(element.Name, value, MemberBinding.TupleElement));
            }

            return new RowSpec(Qualified(type), null, new EquatableArray<MemberSpec>(elements), true);
        }

        IMethodSymbol? constructor = named.InstanceConstructors
            .Where(c => c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal && !IsCopyConstructor(c, named))
            .OrderByDescending(c => c.Parameters.Length)
            .FirstOrDefault();
        if (constructor is null)
        {
            problem = $"'{type.ToDisplayString()}' has no accessible constructor";
            return null;
        }

        var members = new List<MemberSpec>();
        foreach (IParameterSymbol parameter in constructor.Parameters)
        {
            if (ReadValue(parameter.Type, allowCollections: true) is not { } value)
            {
                problem = $"constructor parameter '{parameter.Name}' of '{type.Name}' has the unsupported type '{parameter.Type.ToDisplayString()}'";
                return null;
            }

            members.Add(new MemberSpec(parameter.Name, value, MemberBinding.Constructor, DefaultArgument(parameter)));
        }

        foreach (ISymbol member in AllMembers(named))
        {
            (ITypeSymbol? memberType, bool settable, bool initOnly, bool required) = member switch
            {
                IPropertySymbol p when !p.IsStatic && !p.IsIndexer && p.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal
                    => (p.Type, p.SetMethod is { DeclaredAccessibility: Accessibility.Public or Accessibility.Internal }, p.SetMethod?.IsInitOnly == true, p.IsRequired),
                IFieldSymbol f when !f.IsStatic && !f.IsConst && !f.IsImplicitlyDeclared && f.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal
                    => (f.Type, !f.IsReadOnly, false, f.IsRequired),
                _ => (null, false, false, false),
            };
            if (memberType is null || !settable || members.Exists(m => string.Equals(m.Name, member.Name, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            ValueSpec? value = ReadValue(memberType, allowCollections: true);
            if (value is null)
            {
                if (required)
                {
                    problem = $"required member '{member.Name}' of '{type.Name}' has the unsupported type '{memberType.ToDisplayString()}'";
                    return null;
                }

                continue; // e.g. a navigation collection: not a column, left alone.
            }

            members.Add(new MemberSpec(member.Name, value, required || initOnly ? MemberBinding.Initializer : MemberBinding.Assignment));
        }

        if (members.Count == 0)
        {
            problem = $"'{type.ToDisplayString()}' has no constructor parameter or settable member a column could map to";
            return null;
        }

        return new RowSpec(typeName, null, new EquatableArray<MemberSpec>(members), false);
    }

    /// <summary>
    /// A constructor parameter's default value as a C# expression of its type (<c>((T)(literal))</c>, <c>default(T)!</c>), or
    /// <see langword="null"/> when it has none.
    /// </summary>
    private static string? DefaultArgument(IParameterSymbol parameter)
    {
        if (!parameter.HasExplicitDefaultValue)
        {
            return null;
        }

        string type = Qualified(parameter.Type);
        string? literal = parameter.ExplicitDefaultValue switch
        {
            null => null,
            string text => SymbolDisplay.FormatLiteral(text, quote: true),
            char c => SymbolDisplay.FormatLiteral(c, quote: true),
            bool b => b ? "true" : "false",
            float f => float.IsNaN(f) ? "global::System.Single.NaN"
                : float.IsPositiveInfinity(f) ? "global::System.Single.PositiveInfinity"
                : float.IsNegativeInfinity(f) ? "global::System.Single.NegativeInfinity"
                : f.ToString("R", CultureInfo.InvariantCulture) + "F",
            double d => double.IsNaN(d) ? "global::System.Double.NaN"
                : double.IsPositiveInfinity(d) ? "global::System.Double.PositiveInfinity"
                : double.IsNegativeInfinity(d) ? "global::System.Double.NegativeInfinity"
                : d.ToString("R", CultureInfo.InvariantCulture) + "D",
            decimal m => m.ToString(CultureInfo.InvariantCulture) + "M",
            DateTime date => $"new global::System.DateTime({date.Ticks.ToString(CultureInfo.InvariantCulture)}L, global::System.DateTimeKind.Unspecified)", // [DateTimeConstant]
            sbyte or byte or short or ushort or int or uint or long or ulong => ((IFormattable)parameter.ExplicitDefaultValue).ToString(null, CultureInfo.InvariantCulture), // integers, and an enum's underlying value
            _ => Unknown,
        };
        return literal switch
        {
            null => $"default({type})!",
            Unknown => null, // a default this cannot write as C#: the parameter stays required
            _ => $"(({type})({literal}))",
        };
    }

    /// <summary>Marks a default value <see cref="DefaultArgument"/> cannot write as C#.</summary>
    private const string Unknown = "\0unknown";

    private static IEnumerable<ISymbol> AllMembers(INamedTypeSymbol type)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (INamedTypeSymbol? current = type; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
        {
            foreach (ISymbol member in current.GetMembers())
            {
                if (member is IPropertySymbol or IFieldSymbol && seen.Add(member.Name))
                {
                    yield return member;
                }
            }
        }
    }

    private static bool IsCancellationToken(ITypeSymbol type)
        => type is INamedTypeSymbol { Name: "CancellationToken", ContainingNamespace: { Name: "Threading", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } };

    private static bool IsCopyConstructor(IMethodSymbol constructor, INamedTypeSymbol type)
        => constructor.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(constructor.Parameters[0].Type, type);

    /// <summary>How a scalar is read or bound, or null when the type is not a supported scalar.</summary>
    internal static ValueSpec? ReadValue(ITypeSymbol type, bool allowCollections)
    {
        bool nullable = false;
        if (type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            type = ((INamedTypeSymbol)type).TypeArguments[0];
            nullable = true;
        }
        else if (!type.IsValueType)
        {
            nullable = type.NullableAnnotation != NullableAnnotation.NotAnnotated;
        }

        string name = FullyQualified(type.WithNullableAnnotation(NullableAnnotation.NotAnnotated));
        if (type.TypeKind == TypeKind.Enum && type is INamedTypeSymbol { EnumUnderlyingType: { } underlying })
        {
            // An underlying type with no getter of its own (sbyte, the unsigned ones): read as a long, then narrowed checked
            // (the emitter).
            string? read = underlying.SpecialType is SpecialType.System_SByte or SpecialType.System_UInt16 or SpecialType.System_UInt32 or SpecialType.System_UInt64
                ? "GetInt64"
                : ReaderMethod(underlying.SpecialType);
            return read is not null ? new ValueSpec(name, read, FullyQualified(underlying), true, nullable, false) : null;
        }

        if (ReaderMethod(type.SpecialType) is { } method)
        {
            return new ValueSpec(name, method, null, type.IsValueType, nullable, false);
        }

        switch (Display(type))
        {
            case "System.Guid":
                return new ValueSpec(name, "GetGuid", null, true, nullable, false);
            case "System.DateTimeOffset":
            case "System.DateOnly":
            case "System.TimeOnly":
            case "System.TimeSpan":
            case "sbyte":
            case "ushort":
            case "uint":
            case "ulong":
                return new ValueSpec(name, null, null, true, nullable, false);
        }

        if (type is IArrayTypeSymbol { Rank: 1 } array)
        {
            if (array.ElementType.SpecialType == SpecialType.System_Byte)
            {
                return new ValueSpec(name, null, null, false, nullable, false);
            }

            return allowCollections && ReadValue(array.ElementType, allowCollections: false) is { IsCollection: false } arrayElement
                ? new ValueSpec(name, null, null, false, nullable, true, arrayElement)
                : null;
        }

        if (allowCollections && type is INamedTypeSymbol { IsGenericType: true } list && Display(list.OriginalDefinition) == "System.Collections.Generic.List<T>"
            && ReadValue(list.TypeArguments[0], allowCollections: false) is { IsCollection: false } listElement)
        {
            return new ValueSpec(name, null, null, false, nullable, true, listElement);
        }

        return null;
    }

    private static string? ReaderMethod(SpecialType type) => type switch
    {
        SpecialType.System_Boolean => "GetBoolean",
        SpecialType.System_Byte => "GetByte",
        SpecialType.System_Int16 => "GetInt16",
        SpecialType.System_Int32 => "GetInt32",
        SpecialType.System_Int64 => "GetInt64",
        SpecialType.System_Single => "GetFloat",
        SpecialType.System_Double => "GetDouble",
        SpecialType.System_Decimal => "GetDecimal",
        SpecialType.System_String => "GetString",
        SpecialType.System_Char => "GetChar",
        SpecialType.System_DateTime => "GetDateTime",
        _ => null,
    };

    /// <summary>
    /// Why the SQL argument is not one constant (<see langword="null"/> when it is): a string literal or a named constant, in
    /// parentheses or not, is one; an interpolated string, a concatenation or any other expression is not, even when C#
    /// can fold it into a constant.
    /// </summary>
    private static string? NotConstant(ExpressionSyntax? expression)
        => Unparenthesized(expression) switch
        {
            null => null,
            InterpolatedStringExpressionSyntax => "an interpolated string",
            BinaryExpressionSyntax binary when binary.IsKind(SyntaxKind.AddExpression) => "a concatenation",
            LiteralExpressionSyntax or IdentifierNameSyntax or MemberAccessExpressionSyntax or AliasQualifiedNameSyntax or QualifiedNameSyntax => null,
            _ => "an expression",
        };

    private static ExpressionSyntax? Unparenthesized(ExpressionSyntax? expression)
    {
        while (expression is ParenthesizedExpressionSyntax parenthesized)
        {
            expression = parenthesized.Expression;
        }

        return expression;
    }

    /// <summary>
    /// The location of <paramref name="length"/> characters of the SQL from <paramref name="start"/>, inside the string literal
    /// of <paramref name="argument"/>; null when the SQL is not written there as one literal (a constant elsewhere).
    /// </summary>
    private static Location? SqlLocation(AttributeArgumentSyntax? argument, int start, int length)
    {
        if (Unparenthesized(argument?.Expression) is not LiteralExpressionSyntax literal || length <= 0 || LiteralOffsets(literal.Token) is not { } offsets
            || start + length > offsets.Starts.Length)
        {
            return null;
        }

        int spanStart = literal.Token.SpanStart;
        return Location.Create(literal.SyntaxTree, TextSpan.FromBounds(spanStart + offsets.Starts[start], spanStart + offsets.Ends[start + length - 1]));
    }

    /// <summary>
    /// Where each character of a string literal's value is written in the token: the offsets of its first character and of
    /// the character after it (an escape sequence is several characters for one). Reads regular, verbatim and raw literals;
    /// null for anything else, and whenever the result does not spell the token's value (then the caller falls back).
    /// </summary>
    internal static (int[] Starts, int[] Ends)? LiteralOffsets(SyntaxToken token)
    {
        string text = token.Text;
        string value = token.ValueText;
        var starts = new List<int>(value.Length);
        var ends = new List<int>(value.Length);
        void Add(int from, int to, int count = 1)
        {
            for (int k = 0; k < count; k++)
            {
                starts.Add(from);
                ends.Add(to);
            }
        }

        if (token.IsKind(SyntaxKind.StringLiteralToken) && text.StartsWith("@\"", StringComparison.Ordinal))
        {
            for (int i = 2; i < text.Length - 1; i++)
            {
                bool doubled = text[i] == '"' && text[i + 1] == '"';
                Add(i, doubled ? i + 2 : i + 1);
                i += doubled ? 1 : 0;
            }
        }
        else if (token.IsKind(SyntaxKind.StringLiteralToken) && text.StartsWith("\"", StringComparison.Ordinal))
        {
            for (int i = 1; i < text.Length - 1;)
            {
                if (text[i] != '\\')
                {
                    Add(i, i + 1);
                    i++;
                    continue;
                }

                (int consumed, int produced) = EscapeLength(text, i);
                Add(i, i + consumed, produced);
                i += consumed;
            }
        }
        else if (token.IsKind(SyntaxKind.SingleLineRawStringLiteralToken))
        {
            int quotes = CountQuotes(text);
            for (int i = quotes; i < text.Length - quotes; i++)
            {
                Add(i, i + 1);
            }
        }
        else if (token.IsKind(SyntaxKind.MultiLineRawStringLiteralToken))
        {
            // The content is the lines between the opening and the closing line, each without the closing line's indentation.
            int quotes = CountQuotes(text);
            int contentStart = text.IndexOf('\n') + 1;
            int closingLine = text.LastIndexOf('\n') + 1;
            int indentation = text.Length - quotes - closingLine;
            int contentEnd = closingLine - 1;
            if (contentEnd > 0 && text[contentEnd - 1] == '\r')
            {
                contentEnd--;
            }

            for (int line = contentStart; line < contentEnd;)
            {
                int next = text.IndexOf('\n', line);
                int lineEnd = next < 0 || next >= contentEnd ? contentEnd : next + 1;
                int first = line;
                while (first < lineEnd && first - line < indentation && text[first] is ' ' or '\t')
                {
                    first++;
                }

                for (int i = first; i < lineEnd; i++)
                {
                    Add(i, i + 1);
                }

                line = lineEnd;
            }
        }
        else
        {
            return null;
        }

        if (starts.Count != value.Length)
        {
            return null;
        }

        for (int k = 0; k < value.Length; k++)
        {
            if (ends[k] - starts[k] == 1 && text[starts[k]] != value[k])
            {
                return null;
            }
        }

        return (starts.ToArray(), ends.ToArray());
    }

    /// <summary>How many characters the escape sequence at <paramref name="at"/> takes in the token, and how many it stands for.</summary>
    private static (int Consumed, int Produced) EscapeLength(string text, int at)
    {
        char kind = at + 1 < text.Length ? text[at + 1] : '\0';
        int HexDigits(int from, int most)
        {
            int n = 0;
            while (n < most && from + n < text.Length && Uri.IsHexDigit(text[from + n]))
            {
                n++;
            }

            return n;
        }

        switch (kind)
        {
            case 'x':
                return (2 + HexDigits(at + 2, 4), 1);
            case 'u':
                return (6, 1);
            case 'U':
                bool wide = at + 10 <= text.Length && uint.TryParse(text.Substring(at + 2, 8), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out uint code) && code > 0xFFFF;
                return (10, wide ? 2 : 1);
            default:
                return (2, 1);
        }
    }

    private static int CountQuotes(string text)
    {
        int n = 0;
        while (n < text.Length && text[n] == '"')
        {
            n++;
        }

        return n;
    }

    /// <summary>The row type as the messages name it: <c>Todo</c>, or the tuple as written.</summary>
    private static string RowDisplayName(ITypeSymbol type) => type.IsTupleType ? type.ToDisplayString() : type.Name;

    /// <summary>
    /// The modifiers the implementing declaration must repeat, as the definition writes them (C# wants the same accessibility,
    /// none where the definition has none, and the same <c>virtual</c>, <c>override</c>, <c>sealed</c>, <c>new</c>, <c>static</c>
    /// and <c>readonly</c>): every modifier of the definition but <c>partial</c>.
    /// </summary>
    private static string DeclaredModifiers(IMethodSymbol method, MethodDeclarationSyntax? syntax)
        => syntax is null
            ? AccessibilityText(method.DeclaredAccessibility) + (method.IsStatic ? " static" : string.Empty)
            : string.Join(" ", syntax.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword) && !m.IsKind(SyntaxKind.AsyncKeyword)).Select(m => m.Text));

    private static string NamespaceName(INamedTypeSymbol type)
        => type.ContainingNamespace is { IsGlobalNamespace: false } ns ? t_names?.Namespace(ns) ?? ns.ToDisplayString() : string.Empty;

    private static string AccessibilityText(Accessibility accessibility) => accessibility switch
    {
        Accessibility.Public => "public",
        Accessibility.Internal => "internal",
        Accessibility.Protected => "protected",
        Accessibility.ProtectedOrInternal => "protected internal",
        Accessibility.ProtectedAndInternal => "private protected",
        _ => "private",
    };
}
