"""One builder per screen: `build(ctx) -> Body`."""
