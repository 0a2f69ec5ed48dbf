#nullable enable

// The keyword tables: every keyword (and synonym) Npgsql and Microsoft.Data.Sqlite accept, with its canonical
// spelling, and the lookups built from them.
// Part of ConnectionStringParser (see ConnectionStringParser.cs). Like every ConnectionStringParser*.cs file it is
// compiled into DbCore.Runtime (net8.0;net10.0) and, linked, into DbCore.Generators (netstandard2.0). Keep it free
// of provider types and of APIs missing on netstandard2.0.

using System;
using System.Collections.Generic;

namespace DbCore.ConnectionStrings
{
    internal static partial class ConnectionStringParser
    {
        // Keyword tables: every spelling the provider's builder accepts (case-insensitively), with its canonical
        // spelling. Checked against the real builders by ConnectionStringParserTests (the drift test).

        // Npgsql 10: the DisplayName of every NpgsqlConnectionStringBuilder property, its synonyms, and the property
        // name itself (Npgsql also accepts "SslMode", "MinPoolSize", ...). Obsolete keywords are still accepted.
        private static readonly KeywordEntry[] PostgreSqlTable =
        {
            new("Host", "Host"), new("Server", "Host"),
            new("Port", "Port"),
            new("Database", "Database"), new("DB", "Database"),
            new("Username", "Username"), new("User Name", "Username"), new("UserId", "Username"),
            new("User Id", "Username"), new("UID", "Username"),
            new("Password", "Password"), new("PSW", "Password"), new("PWD", "Password"),
            new("Passfile", "Passfile"),
            new("Application Name", "Application Name"), new("ApplicationName", "Application Name"),
            new("Enlist", "Enlist"),
            new("Search Path", "Search Path"), new("SearchPath", "Search Path"),
            new("Client Encoding", "Client Encoding"), new("ClientEncoding", "Client Encoding"),
            new("Encoding", "Encoding"),
            new("Timezone", "Timezone"),
            new("SSL Mode", "SSL Mode"), new("SslMode", "SSL Mode"),
            new("SSL Negotiation", "SSL Negotiation"), new("SslNegotiation", "SSL Negotiation"),
            new("GSS Encryption Mode", "GSS Encryption Mode"), new("GssEncryptionMode", "GSS Encryption Mode"),
            new("SSL Certificate", "SSL Certificate"), new("SslCertificate", "SSL Certificate"),
            new("SSL Key", "SSL Key"), new("SslKey", "SSL Key"),
            new("SSL Password", "SSL Password"), new("SslPassword", "SSL Password"),
            new("Root Certificate", "Root Certificate"), new("RootCertificate", "Root Certificate"),
            new("Check Certificate Revocation", "Check Certificate Revocation"),
            new("CheckCertificateRevocation", "Check Certificate Revocation"),
            new("Kerberos Service Name", "Kerberos Service Name"), new("KerberosServiceName", "Kerberos Service Name"),
            new("Krbsrvname", "Kerberos Service Name"),
            new("Include Realm", "Include Realm"), new("IncludeRealm", "Include Realm"),
            new("Persist Security Info", "Persist Security Info"), new("PersistSecurityInfo", "Persist Security Info"),
            new("Log Parameters", "Log Parameters"), new("LogParameters", "Log Parameters"),
            new("Include Error Detail", "Include Error Detail"), new("IncludeErrorDetail", "Include Error Detail"),
            new("Include Failed Batched Command", "Include Failed Batched Command"),
            new("IncludeFailedBatchedCommand", "Include Failed Batched Command"),
            new("Channel Binding", "Channel Binding"), new("ChannelBinding", "Channel Binding"),
            new("Require Auth", "Require Auth"), new("RequireAuth", "Require Auth"),
            new("Pooling", "Pooling"),
            new("Minimum Pool Size", "Minimum Pool Size"), new("MinPoolSize", "Minimum Pool Size"),
            new("Maximum Pool Size", "Maximum Pool Size"), new("MaxPoolSize", "Maximum Pool Size"),
            new("Connection Idle Lifetime", "Connection Idle Lifetime"),
            new("ConnectionIdleLifetime", "Connection Idle Lifetime"),
            new("Connection Pruning Interval", "Connection Pruning Interval"),
            new("ConnectionPruningInterval", "Connection Pruning Interval"),
            new("Connection Lifetime", "Connection Lifetime"), new("ConnectionLifetime", "Connection Lifetime"),
            new("Load Balance Timeout", "Connection Lifetime"),
            new("Timeout", "Timeout"),
            new("Command Timeout", "Command Timeout"), new("CommandTimeout", "Command Timeout"),
            new("Cancellation Timeout", "Cancellation Timeout"), new("CancellationTimeout", "Cancellation Timeout"),
            new("Target Session Attributes", "Target Session Attributes"),
            new("TargetSessionAttributes", "Target Session Attributes"),
            new("Load Balance Hosts", "Load Balance Hosts"), new("LoadBalanceHosts", "Load Balance Hosts"),
            new("Host Recheck Seconds", "Host Recheck Seconds"), new("HostRecheckSeconds", "Host Recheck Seconds"),
            new("Keepalive", "Keepalive"), // the property name "KeepAlive" differs only in case
            new("TCP Keepalive", "TCP Keepalive"), new("TcpKeepAlive", "TCP Keepalive"),
            new("TCP Keepalive Time", "TCP Keepalive Time"), new("TcpKeepAliveTime", "TCP Keepalive Time"),
            new("TCP Keepalive Interval", "TCP Keepalive Interval"), new("TcpKeepAliveInterval", "TCP Keepalive Interval"),
            new("Read Buffer Size", "Read Buffer Size"), new("ReadBufferSize", "Read Buffer Size"),
            new("Write Buffer Size", "Write Buffer Size"), new("WriteBufferSize", "Write Buffer Size"),
            new("Socket Receive Buffer Size", "Socket Receive Buffer Size"),
            new("SocketReceiveBufferSize", "Socket Receive Buffer Size"),
            new("Socket Send Buffer Size", "Socket Send Buffer Size"),
            new("SocketSendBufferSize", "Socket Send Buffer Size"),
            new("Max Auto Prepare", "Max Auto Prepare"), new("MaxAutoPrepare", "Max Auto Prepare"),
            new("Auto Prepare Min Usages", "Auto Prepare Min Usages"), new("AutoPrepareMinUsages", "Auto Prepare Min Usages"),
            new("No Reset On Close", "No Reset On Close"), new("NoResetOnClose", "No Reset On Close"),
            new("Options", "Options"),
            new("Array Nullability Mode", "Array Nullability Mode"), new("ArrayNullabilityMode", "Array Nullability Mode"),
            new("Multiplexing", "Multiplexing"),
            new("Write Coalescing Buffer Threshold Bytes", "Write Coalescing Buffer Threshold Bytes"),
            new("WriteCoalescingBufferThresholdBytes", "Write Coalescing Buffer Threshold Bytes"),
            // Obsolete in Npgsql, still accepted by its builder.
            new("Load Table Composites", "Load Table Composites"), new("LoadTableComposites", "Load Table Composites"),
            new("Server Compatibility Mode", "Server Compatibility Mode"),
            new("ServerCompatibilityMode", "Server Compatibility Mode"),
            new("Trust Server Certificate", "Trust Server Certificate"),
            new("TrustServerCertificate", "Trust Server Certificate"),
            new("Internal Command Timeout", "Internal Command Timeout"),
            new("InternalCommandTimeout", "Internal Command Timeout"),
        };

        // Microsoft.Data.Sqlite 10: its Keys plus the synonyms DataSource, Filename and Command Timeout.
        private static readonly KeywordEntry[] SqliteTable =
        {
            new("Data Source", "Data Source"), new("DataSource", "Data Source"), new("Filename", "Data Source"),
            new("Mode", "Mode"),
            new("Cache", "Cache"),
            new("Password", "Password"),
            new("Foreign Keys", "Foreign Keys"),
            new("Recursive Triggers", "Recursive Triggers"),
            new("Default Timeout", "Default Timeout"), new("Command Timeout", "Default Timeout"),
            new("Pooling", "Pooling"),
            new("Vfs", "Vfs"),
        };

        private static readonly Dictionary<string, string> PostgreSqlMap = BuildMap(PostgreSqlTable);
        private static readonly Dictionary<string, string> SqliteMap = BuildMap(SqliteTable);

        /// <summary>Every keyword (and synonym) Npgsql 10's <c>NpgsqlConnectionStringBuilder</c> accepts.</summary>
        internal static IReadOnlyList<string> PostgreSqlKeywords { get; } = KeywordsOf(PostgreSqlTable);

        /// <summary>Every keyword (and synonym) Microsoft.Data.Sqlite 10's <c>SqliteConnectionStringBuilder</c> accepts.</summary>
        internal static IReadOnlyList<string> SqliteKeywords { get; } = KeywordsOf(SqliteTable);

        private static Dictionary<string, string> BuildMap(KeywordEntry[] table)
        {
            var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var entry in table)
            {
                map[entry.Keyword] = entry.Canonical;
            }

            return map;
        }

        private static IReadOnlyList<string> KeywordsOf(KeywordEntry[] table)
        {
            var keywords = new string[table.Length];
            for (var i = 0; i < table.Length; i++)
            {
                keywords[i] = table[i].Keyword;
            }

            return Array.AsReadOnly(keywords);
        }

        private readonly struct KeywordEntry
        {
            public KeywordEntry(string keyword, string canonical)
            {
                Keyword = keyword;
                Canonical = canonical;
            }

            public string Keyword { get; }

            public string Canonical { get; }
        }
    }
}
