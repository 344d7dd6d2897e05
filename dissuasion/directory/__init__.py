"""The precinct directory: precincts, their communities and community officers."""
