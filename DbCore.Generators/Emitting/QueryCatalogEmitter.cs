using System.CodeDom.Compiler;
using System.Globalization;
using System.IO;
using System.Text;
using DbCore.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace DbCore.Generators.Emitting;

/// <summary>
/// Turns a <see cref="QueryCatalogSpec"/> into <c>{Accessor}.QueryCatalog.g.cs</c>: a static table describing every
/// <c>[Query]</c> method of the accessor's session, and <c>VerifyQueriesAsync</c>, which hands it to the runtime
/// <c>QueryVerifier</c>. Looks at no symbol.
/// </summary>
internal static class QueryCatalogEmitter
{
    private const string Infrastructure = "global::DbCore.Infrastructure";

    public static void Emit(SourceProductionContext context, QueryCatalogSpec catalog)
    {
        string hintName = (catalog.Namespace.Length == 0 ? string.Empty : catalog.Namespace + ".") + catalog.AccessorName + ".QueryCatalog.g.cs";
        context.AddSource(hintName.Replace("@", string.Empty), SourceText.From(Render(catalog), Encoding.UTF8));
    }

    public static string Render(QueryCatalogSpec catalog)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        using var w = new IndentedTextWriter(text, "    ");
        bool hasNamespace = GeneratedSource.Begin(w, catalog.Namespace);

        w.WriteLine($"partial class {Identifier.Escape(catalog.AccessorName)}");
        w.WriteLine("{");
        w.Indent++;
        w.WriteLine($"/// <summary>The <c>[Query]</c> methods of <see cref=\"{Identifier.Escape(catalog.SessionName)}\"/>, as <see cref=\"VerifyQueriesAsync(global::System.Threading.CancellationToken)\"/> checks them.</summary>");
        w.WriteLine($"private static readonly {Infrastructure}.QueryDescriptor[] __dbcoreQueries = new {Infrastructure}.QueryDescriptor[]");
        w.WriteLine("{");
        w.Indent++;
        foreach (QueryMethodSpec query in catalog.Queries)
        {
            WriteDescriptor(w, query, catalog.Provider);
        }

        w.Indent--;
        w.WriteLine("};");
        const string Token = "global::System.Threading.CancellationToken cancellationToken = default";
        const string TokenDoc = "<param name=\"cancellationToken\">Cancels the verification.</param>";
        const string OptionsDoc = "<param name=\"options\">The snapshot's path and whether to write or check it.</param>";
        WriteMethod(
            w,
            [
                "<summary>",
                "Describes every <c>[Query]</c> method of the session against the connected database without running it (inside a",
                "transaction that is rolled back) and checks the SQL, the parameters, and the result columns against the method: count,",
                "names, CLR types and nullability. See docs/queries.md, \"Verifying queries against the database\".",
                "</summary>",
                TokenDoc,
                "<exception cref=\"global::DbCore.QueryVerificationException\">Some query does not match the database; lists every mismatch.</exception>",
            ],
            $"public global::System.Threading.Tasks.Task VerifyQueriesAsync({Token})",
            $"=> {Infrastructure}.QueryVerifier.VerifyAsync(CreateSession(), __dbcoreQueries, cancellationToken);");
        WriteMethod(
            w,
            [
                "<summary>",
                "As <see cref=\"VerifyQueriesAsync(global::System.Threading.CancellationToken)\"/>, and writes or checks the query snapshot",
                "(<c>dbcore.queries.json</c>, which the analyzer checks the methods against) as <paramref name=\"options\"/> say.",
                "See docs/queries.md, \"Checked queries\".",
                "</summary>",
                OptionsDoc,
                TokenDoc,
                "<exception cref=\"global::DbCore.QueryVerificationException\">Some query does not match the database, or the checked snapshot is not current.</exception>",
            ],
            $"public global::System.Threading.Tasks.Task VerifyQueriesAsync(global::DbCore.QueryVerificationOptions options, {Token})",
            $"=> {Infrastructure}.QueryVerifier.VerifyAsync(CreateSession(), __dbcoreQueries, options, cancellationToken);");
        if (catalog.Provider != ProviderKind.PostgreSql)
        {
            const string SchemaDoc = "<param name=\"schemaScript\">The schema's SQL, e.g. <c>File.ReadAllText(\"schema.sql\")</c>.</param>";
            WriteMethod(
                w,
                [
                    "<summary>",
                    "Checks every <c>[Query]</c> method as <see cref=\"VerifyQueriesAsync(global::System.Threading.CancellationToken)\"/> does, against a private in-memory SQLite database",
                    "built from <paramref name=\"schemaScript\"/>: no server, no file (for tests and CI).",
                    "</summary>",
                    SchemaDoc,
                    TokenDoc,
                    "<exception cref=\"global::DbCore.QueryVerificationException\">Some query does not match the schema; lists every mismatch.</exception>",
                ],
                $"public static global::System.Threading.Tasks.Task VerifyQueriesAgainstSqliteSchemaAsync(string schemaScript, {Token})",
                $"=> {Infrastructure}.QueryVerifier.VerifyAgainstSqliteSchemaAsync(__dbcoreQueries, schemaScript, cancellationToken);");
            WriteMethod(
                w,
                [
                    "<summary>",
                    "As <see cref=\"VerifyQueriesAgainstSqliteSchemaAsync(string, global::System.Threading.CancellationToken)\"/>, and writes or checks",
                    "the query snapshot (<c>dbcore.queries.json</c>) as <paramref name=\"options\"/> say.",
                    "</summary>",
                    SchemaDoc,
                    OptionsDoc,
                    TokenDoc,
                    "<exception cref=\"global::DbCore.QueryVerificationException\">Some query does not match the schema, or the checked snapshot is not current.</exception>",
                ],
                $"public static global::System.Threading.Tasks.Task VerifyQueriesAgainstSqliteSchemaAsync(string schemaScript, global::DbCore.QueryVerificationOptions options, {Token})",
                $"=> {Infrastructure}.QueryVerifier.VerifyAgainstSqliteSchemaAsync(__dbcoreQueries, schemaScript, typeof({Identifier.Escape(catalog.SessionName)}), options, cancellationToken);");
        }

        w.Indent--;
        w.WriteLine("}");
        GeneratedSource.End(w, hasNamespace);
        return text.ToString();
    }

    /// <summary>A blank line, the documentation comment, [GeneratedCode], the signature and its expression body.</summary>
    private static void WriteMethod(IndentedTextWriter w, string[] documentation, string signature, string body)
    {
        w.WriteLineNoTabs(string.Empty);
        foreach (string line in documentation)
        {
            w.WriteLine("/// " + line);
        }

        w.WriteLine(GeneratedSource.GeneratedCodeAttribute);
        w.WriteLine(signature);
        w.Indent++;
        w.WriteLine(body);
        w.Indent--;
    }

    private static void WriteDescriptor(IndentedTextWriter w, QueryMethodSpec query, ProviderKind provider)
    {
        string executed = provider == ProviderKind.PostgreSql && query.UsesPositional ? query.PositionalSql : query.Sql;
        w.WriteLine($"new {Infrastructure}.QueryDescriptor(");
        w.Indent++;
        w.WriteLine($"{Literal(query.DisplayName)},");
        w.WriteLine($"{Literal(executed)},");
        w.WriteLine($"{Literal(query.PositionalSql)},");
        w.WriteLine($"{(query.UsesPositional ? "true" : "false")},");
        w.WriteLine($"{Infrastructure}.QueryShape.{Shape(query.Shape)},");
        WriteValues(w, query.Parameters.Count, i => Value(query.Parameters[i].Placeholder, query.Parameters[i].Value, required: true), last: false);
        RowSpec? row = query.Shape is ResultShape.None or ResultShape.RowsAffected ? null : query.Row;
        w.WriteLine(row?.Scalar is { } scalar ? Value("the result", scalar, required: true) + "," : "null,");
        int members = row is { Scalar: null } ? row.Members.Count : 0;
        WriteValues(w, members, i => Value(row!.Members[i].Name, row.Members[i].Value, !row.Members[i].IsOptional), last: true);
        w.Indent--;
    }

    private static void WriteValues(IndentedTextWriter w, int count, System.Func<int, string> value, bool last)
    {
        string end = last ? ")," : ",";
        if (count == 0)
        {
            w.WriteLine($"global::System.Array.Empty<{Infrastructure}.QueryValueDescriptor>(){end}");
            return;
        }

        w.WriteLine($"new {Infrastructure}.QueryValueDescriptor[]");
        w.WriteLine("{");
        w.Indent++;
        for (int i = 0; i < count; i++)
        {
            w.WriteLine(value(i) + ",");
        }

        w.Indent--;
        w.WriteLine("}" + end);
    }

    private static string Value(string name, ValueSpec value, bool required)
        => $"new {Infrastructure}.QueryValueDescriptor({Literal(name)}, {Literal(value.TypeName)}, {((value.EnumUnderlying ?? value.Element?.EnumUnderlying) is { } underlying ? Literal(underlying) : "null")}, "
            + $"{Bool(value.IsNullable)}, {Bool(value.IsCollection)}, {Bool(required)})";

    private static string Shape(ResultShape shape) => shape switch
    {
        ResultShape.None => "None",
        ResultShape.RowsAffected => "RowsAffected",
        ResultShape.Single => "Single",
        ResultShape.SingleOrDefault => "SingleOrDefault",
        _ => "Many",
    };

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Literal(string value) => SymbolDisplay.FormatLiteral(value, quote: true);
}
