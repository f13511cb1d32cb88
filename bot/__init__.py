"""Frontline's conversation hub (channels, conversations, handoff queue, console) and custom Rasa parts."""
