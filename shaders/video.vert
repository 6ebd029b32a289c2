#version 330 core
// A textured quad without vertex buffers: corners from gl_VertexID (triangle strip of 4),
// placed by u_rect (NDC x0, y0, x1, y1). v_uv (0,0) is the picture's top-left sample.
// u_quarter_turns turns the picture clockwise for display (phones record sideways and say so
// in their display matrix): the rectangle's corners take the picture's corners turned.
uniform vec4 u_rect;
uniform int u_quarter_turns;
out vec2 v_uv;

void main() {
  vec2 corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1));
  if (u_quarter_turns == 1) v_uv = vec2(corner.y, 1.0 - corner.x);
  else if (u_quarter_turns == 2) v_uv = vec2(1.0 - corner.x, 1.0 - corner.y);
  else if (u_quarter_turns == 3) v_uv = vec2(1.0 - corner.y, corner.x);
  else v_uv = corner;
  gl_Position = vec4(mix(u_rect.x, u_rect.z, corner.x), mix(u_rect.y, u_rect.w, corner.y), 0.0, 1.0);
}
