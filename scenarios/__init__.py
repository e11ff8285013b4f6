"""The built-in scenario catalog: one YAML file per scenario (this file only makes the folder a
package, so an installed cka-lab finds the catalog with importlib.resources)."""
