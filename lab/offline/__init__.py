"""Building everything a real kind cluster needs from package registries alone (no container
registry, no download site): a Docker engine, kind, a kind node image and the workload images."""
