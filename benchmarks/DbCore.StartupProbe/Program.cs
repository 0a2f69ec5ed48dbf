using DbCore.Benchmarks.Harness;

// The NativeAOT startup child: <provider> <side> <connection string>, prints "STARTUP-MS n" (see StartupChild).
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: DbCore.StartupProbe sqlite|postgresql " + string.Join('|', StartupChild.Sides) + " <connection string>");
    return 2;
}

return await StartupChild.RunAsync(args[0], args[1], args[2]).ConfigureAwait(false);
