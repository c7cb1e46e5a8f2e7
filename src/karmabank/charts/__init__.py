"""The charts, defined once (issue 19): a Vega-Lite definition per chart (`definitions`, written
with Altair) over the numbers `measures.charts_data` computes, rendered without a browser by
vl-convert (`render`): SVG for the pages and the report, PNG for the command line.

Pure: a definition takes the chart's rows and returns the Vega-Lite spec (a dict) whose data
are those rows, unchanged; nothing here reads a file, the clock or the network.
"""
