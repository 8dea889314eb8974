using Xunit;

// The leak test compares the native library's process-wide counters with a baseline, so no other
// test may create endpoints while it runs.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
