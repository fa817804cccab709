"""The pathway engine: services by kind, routes, people and their journeys, places, demand, the model.

SimPy only: no pandas, no files, no plots, and no particular system's services (they are data).
"""
