#version 330 core
// A textured quad without vertex buffers: corners from gl_VertexID (triangle strip of 4),
// placed by u_rect (NDC x0, y0, x1, y1). v_uv (0,0) is the picture's top-left sample.
uniform vec4 u_rect;
out vec2 v_uv;

void main() {
  vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
  v_uv = corner;
  gl_Position = vec4(mix(u_rect.x, u_rect.z, corner.x), mix(u_rect.y, u_rect.w, corner.y), 0.0, 1.0);
}
