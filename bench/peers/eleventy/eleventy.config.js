// Minimal Eleventy site for the benchmark: one page per event, per actor, per tag, an index.
module.exports = function (eleventyConfig) {
  const byDate = (a, b) => a.date - b.date;
  eleventyConfig.addCollection("events", (api) =>
    api.getFilteredByGlob("events/*.md").sort(byDate));
  // Actor name -> its events in date order, for the actor pages.
  eleventyConfig.addCollection("byActor", (api) => {
    const groups = {};
    for (const item of api.getFilteredByGlob("events/*.md").sort(byDate)) {
      for (const name of item.data.actors || []) (groups[name] ||= []).push(item);
    }
    return groups;
  });
  eleventyConfig.addFilter("isoDate", (date) => date.toISOString().slice(0, 10));
  eleventyConfig.addFilter("latest", (items, n) => items.slice(-n).reverse());
  return {
    dir: { input: ".", includes: "_includes", output: "_site" },
    templateFormats: ["md", "njk"],
    markdownTemplateEngine: false, // bodies are plain Markdown, as in the other tools
  };
};
