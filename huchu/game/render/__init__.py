"""Pictures of a version: morph averages, swap and restore, template placement, timelines."""
