"""The Gradio Space's logic (spaces/app.py only lays out the UI).

backend.py   what the Space runs: input checks, labeling, plots, downloads
timeline.py  the timeline plot of labeled buttons, sticks and confidence
assets.py    the bundled example video and tiny demo IDM and policy (trains them)
"""
