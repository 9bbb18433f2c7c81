// The API docs page (/api/v1/docs): Swagger UI, vendored in static/vendor/swagger-ui, reading the schema.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
  });
})();
