"""The web UI: server-rendered pages (Jinja2), one CSS and one small JS file, no build step.

Pages read without JavaScript; the script adds keyboard shortcuts, the theme toggle and the
account menu. What a page shows or hides follows the server's capabilities, never a profile
fixed at build time.
"""
