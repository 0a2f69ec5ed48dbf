using System.Runtime.CompilerServices;

// The code fixes read the diagnostic IDs and the base-name rule from here rather than keeping copies.
[assembly: InternalsVisibleTo("DbCore.CodeFixes")]
