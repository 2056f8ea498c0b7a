// Starts Swagger UI on /docs from a file, so that the page needs no inline script (CSP).
// The page's script tag says where the OpenAPI document is and whether "Try it out" is on.
(function () {
  "use strict";
  const options = document.currentScript.dataset;
  const tryItOut = options.tryItOut === "true";
  window.ui = SwaggerUIBundle({
    url: options.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    tryItOutEnabled: tryItOut,
    supportedSubmitMethods: tryItOut ? ["get", "post", "options", "head"] : [],
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
