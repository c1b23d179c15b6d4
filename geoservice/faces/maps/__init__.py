"""Published maps: self-contained folium HTML (no CDN) and print PNGs."""
