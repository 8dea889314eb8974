global using Xunit;
global using Xunit.Abstractions;

// The tests start several node processes each and measure timings: run one at a time on the 2-core CI machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
