"""The mock exam: a blueprint draws tasks across the CKA domains, the engine puts them all in
one cluster, and they are graded once, at the end, with partial credit."""
